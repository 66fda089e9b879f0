"""Planted latent segments and the contact properties each one draws (lifecycle, emails, country, ...).

Every segment has a clearly different mix of counts, categoricals and timestamps, so that k-prototypes on
the features the SQL layer exposes can recover it, while the mixture over segments stays close to the
spec's marginals. Times are float minutes since 1970-01-01 with NaN for "missing".

| segment | share | story |
|---|---|---|
| newsletter_readers | 37% | 2019-07-19 bulk import, reads The Batch (about 40% opens), rarely visits |
| dormant | 15% | bulk import, opened a few emails in the first months, then bounced or unsubscribed |
| engaged_learners | 12% | leads of spring/summer 2020, many sessions, course and specialization pages, most buyers |
| event_goers | 8% | late-2020 leads from event registration, events/register pages, US and Europe |
| enterprise | 7% | early leads (autumn 2019) with a job title and a company, career/about pages |
| recent_subscribers | 16% | organic subscribers of 2020, newsletter readers with few emails so far |
| book_downloaders | 5% | downloaded Machine Learning Yearning, never emailed, no lifecycle date |

One deliberate deviation from the spec: a contact's recorded pages never outnumber its sessions (one page
per session), so the spec's slot fills force more contacts with 3+ sessions than its sessions table has
(at default size about 15k with 4+ sessions instead of 11.9k, 55k with one session instead of 63k).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from journeys.synth import catalog

MINUTE = 1.0
DAY = 24 * 60 * MINUTE


def minutes(stamp: str) -> float:
    """Minutes since the epoch of a `YYYY-MM-DD[ HH:MM]` string."""
    return float(np.datetime64(stamp, "m").astype(np.int64))


BULK_IMPORT_START = minutes("2019-07-19 16:05")
FIRST_CONVERSION_MIN = minutes("2019-08-07 00:00")
EXPORT_END = minutes("2021-01-04 23:59")
SESSIONS_START = minutes("2019-06-01 00:00")
ONE_OFF_CLICKERS = 0.3


@dataclass(frozen=True)
class Segment:
    """Generative parameters of one planted segment."""

    name: str
    share: float
    lifecycle: str  # "bulk" (2019-07-19 import), "subscriber", "lead" or "none" (never emailed)
    join_beta: tuple[float, float]  # Beta shape of the join date's position in its window
    country_missing: float
    country_boost: dict[str, float]
    open_beta: tuple[float, float]  # per-contact open rate of delivered emails
    never_open: float
    click_beta: tuple[float, float]  # per-contact click rate of opened emails
    never_click: float
    extra_emails: float  # Poisson mean of non-newsletter campaigns over a full 18-month window
    stop: float  # unsubscribed or bounced: emails stop at a random date
    unsubscribed: float  # share of the stopped ones that also set `Unsubscribed from all email`
    opt_out: tuple[float, float, float]  # events and community, program announcements, the batch
    late_campaign: float  # last email is a campaign sent after the final newsletter
    late_email: int  # which of the 3 post-newsletter campaigns (event reminder, course launch, DLS update)
    sessions_zero: float
    sessions_geometric: float  # P(1 session | at least one)
    job_title: float
    job_boost: dict[str, float]
    company: float
    education: float
    event: float
    event_top: float  # share of `GANs for Good` among the segment's events
    page_affinity: dict[str, float]
    buy_intercept: float
    open_window_days: float = np.inf  # opens (and clicks) only this long after the first send
    stop_within_days: float = np.inf  # stopped contacts stop this long after joining at the latest
    # Share of each of catalog.COURSES (in that order) as a buyer's first course.
    course_mix: tuple[float, ...] = field(default=(0.80, 0.176, 0.007, 0.007, 0.007, 0.003))


SEGMENTS: tuple[Segment, ...] = (
    Segment(
        name="newsletter_readers",
        share=0.371,
        lifecycle="bulk",
        join_beta=(1, 1),
        country_missing=0.42,
        country_boost={},
        open_beta=(8, 12),
        never_open=0.01,
        click_beta=(1, 12),
        never_click=0.10,
        extra_emails=20,
        stop=0.005,
        unsubscribed=0.7,
        opt_out=(0.04, 0.03, 0.01),
        late_campaign=0.12,
        late_email=0,
        sessions_zero=0.975,
        sessions_geometric=0.75,
        job_title=0.03,
        job_boost={"Software Engineer": 2, "Data Scientist": 2},
        company=0.06,
        education=0.0002,
        event=0.12,
        event_top=0.15,
        page_affinity={
            "batch": 6,
            "blog": 3,
            "yearning": 9,
            "home": 1,
            "course": 1,
            "specialization": 1,
            "unsubscribe": 0.6,
            "subscribe": 0.3,
            "events": 0.3,
        },
        buy_intercept=-5.48,
    ),
    Segment(
        name="dormant",
        share=0.154,
        lifecycle="bulk",
        join_beta=(1, 1),
        country_missing=0.70,
        country_boost={"cn": 3, "ru": 2, "br": 1.5},
        open_beta=(2, 12),
        never_open=0.2,
        click_beta=(1, 30),
        never_click=1.0,
        extra_emails=5,
        stop=1.0,
        unsubscribed=0.35,
        opt_out=(0.10, 0.08, 0.06),
        late_campaign=0.02,
        late_email=1,
        sessions_zero=1.0,
        sessions_geometric=1.0,
        job_title=0.01,
        job_boost={},
        company=0.05,
        education=0.0,
        event=0.02,
        event_top=0.15,
        page_affinity={"home": 1},
        buy_intercept=-6.58,
        open_window_days=120,
        stop_within_days=240,
    ),
    Segment(
        name="engaged_learners",
        share=0.119,
        lifecycle="lead",
        join_beta=(12, 12),
        country_missing=0.05,
        country_boost={"in": 2.5, "pk": 2.5, "ng": 2.5, "eg": 2, "bd": 2.5, "vn": 2, "us": 0.6},
        open_beta=(8, 3),
        never_open=0.0,
        click_beta=(1.5, 20),
        never_click=0.05,
        extra_emails=14,
        stop=0.05,
        unsubscribed=0.6,
        opt_out=(0.08, 0.02, 0.05),
        late_campaign=0.70,
        late_email=2,
        sessions_zero=0.0,
        sessions_geometric=0.32,
        job_title=0.12,
        job_boost={"Student": 5, "Software Engineer": 3, "Machine Learning Engineer": 3, "Data Scientist": 2},
        company=0.25,
        education=0.005,
        event=0.15,
        event_top=0.15,
        page_affinity={
            "course": 4,
            "specialization": 3.5,
            "course signup": 0.8,
            "yearning": 7,
            "home": 1.5,
            "forum": 1.2,
            "blog": 1,
            "batch": 2,
            "events": 0.2,
        },
        buy_intercept=-3.06,
    ),
    Segment(
        name="event_goers",
        share=0.083,
        lifecycle="lead",
        join_beta=(10, 2),
        country_missing=0.10,
        country_boost={"us": 1.4, "gb": 1.6, "ca": 1.5, "fr": 1.4, "de": 1.2, "in": 0.4},
        open_beta=(4, 6),
        never_open=0.01,
        click_beta=(1, 18),
        never_click=0.25,
        extra_emails=18,
        stop=0.06,
        unsubscribed=0.6,
        opt_out=(0.01, 0.04, 0.10),
        late_campaign=0.70,
        late_email=0,
        sessions_zero=0.03,
        sessions_geometric=0.65,
        job_title=0.15,
        job_boost={"Researcher": 3, "Professor / Teacher": 3},
        company=0.30,
        education=0.0005,
        event=1.0,
        event_top=0.60,
        page_affinity={
            "events": 2,
            "register": 1.2,
            "home": 1,
            "blog": 1,
            "yearning": 4,
            "climate": 0.5,
            "ambassador": 0.6,
            "course": 0.5,
            "specialization": 0.5,
            "batch": 1.5,
        },
        buy_intercept=-3.36,
    ),
    Segment(
        name="enterprise",
        share=0.065,
        lifecycle="lead",
        join_beta=(1, 8),
        country_missing=0.08,
        country_boost={"us": 2, "gb": 2, "de": 2, "ch": 1.5, "nl": 1.5, "sg": 1.5, "in": 0.3},
        open_beta=(2, 8),
        never_open=0.02,
        click_beta=(1, 18),
        never_click=0.25,
        extra_emails=10,
        stop=0.07,
        unsubscribed=0.6,
        opt_out=(0.05, 0.05, 0.08),
        late_campaign=0.60,
        late_email=1,
        sessions_zero=0.10,
        sessions_geometric=0.60,
        job_title=0.95,
        job_boost={
            "Manager": 15,
            "Executive": 10,
            "Product Manager": 4,
            "Consultant": 4,
            "Business Analyst": 3,
        },
        company=1.0,
        education=0.002,
        event=0.20,
        event_top=0.15,
        page_affinity={
            "specialization": 2.5,
            "course": 2.5,
            "career": 2,
            "about": 1.5,
            "contact": 1,
            "press": 0.7,
            "home": 1.5,
            "yearning": 5,
            "terms": 0.3,
            "course signup": 1,
            "batch": 1.5,
        },
        buy_intercept=-3.21,
        course_mix=(0.57, 0.40, 0.008, 0.008, 0.01, 0.004),
    ),
    Segment(
        name="recent_subscribers",
        share=0.157,
        lifecycle="subscriber",
        join_beta=(5, 1.6),
        country_missing=0.30,
        country_boost={"br": 2, "mx": 2, "es": 2, "co": 2, "ar": 2},
        open_beta=(6, 6),
        never_open=0.01,
        click_beta=(1, 18),
        never_click=0.35,
        extra_emails=9,
        stop=0.05,
        unsubscribed=0.6,
        opt_out=(0.05, 0.04, 0.01),
        late_campaign=0.10,
        late_email=2,
        sessions_zero=0.93,
        sessions_geometric=0.65,
        job_title=0.04,
        job_boost={"Student": 2},
        company=0.10,
        education=0.0002,
        event=0.15,
        event_top=0.15,
        page_affinity={
            "batch": 5,
            "blog": 3,
            "subscribe": 2,
            "yearning": 7,
            "home": 1,
            "course": 1,
            "specialization": 0.7,
        },
        buy_intercept=-5.08,
    ),
    Segment(
        name="book_downloaders",
        share=0.051,
        lifecycle="none",
        join_beta=(1, 1),
        country_missing=0.15,
        country_boost={"in": 1.5, "cn": 1.5},
        open_beta=(1, 1),
        never_open=1.0,
        click_beta=(1, 1),
        never_click=1.0,
        extra_emails=0,
        stop=0.0,
        unsubscribed=0.0,
        opt_out=(0.0, 0.0, 0.0),
        late_campaign=0.0,
        late_email=0,
        sessions_zero=0.45,
        sessions_geometric=0.85,
        job_title=0.02,
        job_boost={},
        company=0.05,
        education=0.0,
        event=0.02,
        event_top=0.15,
        page_affinity={
            "yearning": 12,
            "home": 1,
            "subscribe": 0.5,
            "specialization": 0.6,
            "course": 0.5,
            "blog": 0.3,
            "batch": 1,
        },
        buy_intercept=-3.46,
    ),
)
SEGMENT_NAMES: tuple[str, ...] = tuple(s.name for s in SEGMENTS)


def draw_segments(rng: np.random.Generator, n: int) -> np.ndarray:
    """Segment index per contact."""
    shares = np.array([s.share for s in SEGMENTS])
    return rng.choice(len(SEGMENTS), size=n, p=shares / shares.sum())


def _per_segment(segment: np.ndarray, values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=float)[segment]


def _draw_categorical(
    rng: np.random.Generator, segment: np.ndarray, probs_per_segment: np.ndarray
) -> np.ndarray:
    """Index drawn from `probs_per_segment[segment]` (rows sum to 1), vectorised by inverse CDF."""
    cdf = np.cumsum(probs_per_segment, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(segment))
    out = np.empty(len(segment), dtype=np.int64)
    for s in range(probs_per_segment.shape[0]):
        rows = segment == s
        out[rows] = np.searchsorted(cdf[s], u[rows], side="right")
    return out


def draw_lifecycle(rng: np.random.Generator, segment: np.ndarray) -> dict[str, np.ndarray]:
    """Subscriber / lead / first conversion dates; the join date that starts the email history."""
    n = len(segment)
    kind = np.array([s.lifecycle for s in SEGMENTS])[segment]
    position = np.empty(n)
    for s, seg in enumerate(SEGMENTS):
        rows = segment == s
        position[rows] = rng.beta(seg.join_beta[0], seg.join_beta[1], int(rows.sum()))
    subscriber = np.full(n, np.nan)
    lead = np.full(n, np.nan)
    bulk = kind == "bulk"
    subscriber[bulk] = BULK_IMPORT_START + np.floor(rng.random(int(bulk.sum())) * 170)
    organic = kind == "subscriber"
    window = EXPORT_END - DAY - (BULK_IMPORT_START + DAY)
    subscriber[organic] = np.floor(BULK_IMPORT_START + DAY + position[organic] * window)
    leads = kind == "lead"
    lead[leads] = np.floor(FIRST_CONVERSION_MIN + position[leads] * (EXPORT_END - 600 - FIRST_CONVERSION_MIN))
    # The spec has 4 more lead dates than first conversion dates; the conversion is the same form submission.
    first_conversion = np.where(rng.random(n) < 4.5e-5, np.nan, lead)
    join = np.where(np.isnan(subscriber), lead, subscriber)
    return {"subscriber": subscriber, "lead": lead, "first_conversion": first_conversion, "join": join}


def draw_country(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    """Country index into catalog.COUNTRIES, -1 when missing."""
    base = catalog.country_base_weights()
    probs = np.empty((len(SEGMENTS), len(base)))
    for s, seg in enumerate(SEGMENTS):
        boost = np.array([seg.country_boost.get(code, 1.0) for code in catalog.COUNTRY_CODES])
        probs[s] = base * boost / (base * boost).sum()
    country = _draw_categorical(rng, segment, probs)
    missing = rng.random(len(segment)) < _per_segment(segment, [s.country_missing for s in SEGMENTS])
    return np.where(missing, -1, country)


def _email_index(dates: np.ndarray, at: np.ndarray, side: str) -> np.ndarray:
    return np.searchsorted(dates, at, side=side)


def draw_emails(rng: np.random.Generator, segment: np.ndarray, join: np.ndarray) -> dict[str, np.ndarray]:
    """Marketing email counts, first/last dates, last email name and opt-outs, ordered as a real export is.

    Contacts receive every newsletter from their join date until they stop (unsubscribe or bounce) or until
    the export, plus a segment-specific number of campaigns; opens are a binomial share of deliveries and
    clicks of opens, so clicked <= opened <= delivered and first <= last for every pair of dates.
    """
    n = len(segment)
    names, dates_dt, is_news = catalog.email_catalog()
    dates = dates_dt.astype(np.int64).astype(float)
    news_dates = dates[is_news]
    emailed = ~np.isnan(join)
    join_f = np.where(emailed, join, np.inf)

    stops = rng.random(n) < _per_segment(segment, [s.stop for s in SEGMENTS])
    join_0 = np.where(emailed, join, EXPORT_END)
    stop_window = np.minimum(
        EXPORT_END - join_0, _per_segment(segment, [s.stop_within_days for s in SEGMENTS]) * DAY
    )
    stop_at = join_0 + rng.random(n) * stop_window
    unsubscribed = stops & (rng.random(n) < _per_segment(segment, [s.unsubscribed for s in SEGMENTS]))
    opt = np.array([s.opt_out for s in SEGMENTS])[segment]
    opted = rng.random((n, 3)) < opt
    late = (
        ~stops & ~opted[:, 2] & (rng.random(n) < _per_segment(segment, [s.late_campaign for s in SEGMENTS]))
    )

    first_idx = _email_index(dates, join_f, "right")
    final_news = int(np.flatnonzero(is_news)[-1])
    late_campaigns = np.flatnonzero(dates > news_dates[-1])
    recent_campaigns = np.flatnonzero(~is_news & (dates > news_dates[-1] - 70 * DAY))
    last_idx = np.full(n, final_news)
    last_idx[late] = late_campaigns[np.array([s.late_email for s in SEGMENTS])[segment[late]]]
    batch_out = ~stops & opted[:, 2]
    last_idx[batch_out] = recent_campaigns[rng.integers(0, len(recent_campaigns), int(batch_out.sum()))]
    last_idx[stops] = np.maximum(_email_index(dates, stop_at[stops], "right") - 1, 0)
    sent = emailed & (last_idx >= first_idx)

    news_in_window = np.clip(
        _email_index(news_dates, dates[np.minimum(last_idx, len(dates) - 1)], "right")
        - _email_index(news_dates, join_f, "right"),
        0,
        None,
    )
    window_share = np.clip((dates[last_idx] - join_f) / (EXPORT_END - BULK_IMPORT_START), 0, 1)
    # Campaign exposure varies a lot between contacts (lists, interests): a gamma-mixed Poisson.
    appetite = rng.gamma(2.0, 0.5, n)
    extra = rng.poisson(_per_segment(segment, [s.extra_emails for s in SEGMENTS]) * window_share * appetite)
    total = news_in_window + extra
    # The spec's maximum is 119: the few heavier totals land just below it rather than piling up on it.
    total = np.where(total > 119, 119 - rng.integers(0, 25, n), total)
    delivered = np.where(sent, np.maximum(total, 1), 0)

    offset = np.floor(rng.random(n) * 120)
    first_send = np.where(sent, dates[np.minimum(first_idx, len(dates) - 1)] + offset, np.nan)
    last_send = np.where(sent, dates[last_idx] + offset, np.nan)
    last_name = np.where(sent, names[last_idx], None)

    open_shape = np.array([s.open_beta for s in SEGMENTS])[segment]
    open_rate = rng.beta(open_shape[:, 0], open_shape[:, 1])
    open_rate[rng.random(n) < _per_segment(segment, [s.never_open for s in SEGMENTS])] = 0.0
    opened = rng.binomial(delivered, open_rate)
    click_shape = np.array([s.click_beta for s in SEGMENTS])[segment]
    click_rate = rng.beta(click_shape[:, 0], click_shape[:, 1])
    click_rate[rng.random(n) < _per_segment(segment, [s.never_click for s in SEGMENTS])] = 0.0
    clicked = rng.binomial(opened, click_rate)
    # One-off clickers (a single launch announcement): the spec has half of all clickers at exactly 1.
    clicked = np.where(rng.random(n) < ONE_OFF_CLICKERS, np.minimum(clicked, 1), clicked)

    window_end = first_send + _per_segment(segment, [s.open_window_days for s in SEGMENTS]) * DAY
    first_open, last_open = _dates_between(rng, first_send, np.fmin(last_send, window_end), opened)
    first_click, last_click = _dates_between(rng, first_open, last_open, clicked)
    return {
        "delivered": delivered,
        "opened": opened,
        "clicked": clicked,
        "first_send": first_send,
        "last_send": last_send,
        "first_open": first_open,
        "last_open": last_open,
        "first_click": first_click,
        "last_click": last_click,
        "last_name": last_name,
        "opt_out_events": opted[:, 0],
        "opt_out_announcements": opted[:, 1],
        "opt_out_batch": opted[:, 2],
        "unsubscribed": unsubscribed,
    }


def _dates_between(
    rng: np.random.Generator, start: np.ndarray, end: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First and last event dates of `count` events that follow [start, end] (reactions lag sends)."""
    n = len(count)
    span = np.nan_to_num(end - start)
    lag1 = np.floor(5 + rng.exponential(600, n))
    lag2 = np.floor(5 + rng.exponential(600, n))
    first = np.floor(start + rng.random(n) * 0.5 * span) + lag1
    last = np.floor(end - rng.random(n) * 0.5 * span) + lag2
    first = np.minimum(first, EXPORT_END)
    last = np.minimum(np.maximum(last, first), EXPORT_END)
    last = np.where(count == 1, first, last)
    has = count > 0
    return np.where(has, first, np.nan), np.where(has, last, np.nan)


def draw_profile(rng: np.random.Generator, segment: np.ndarray) -> dict[str, np.ndarray]:
    """Job title, education, company and last registered event."""
    n = len(segment)
    jobs = np.array(catalog.JOB_TITLES, dtype=object)
    job_probs = np.empty((len(SEGMENTS), len(jobs)))
    for s, seg in enumerate(SEGMENTS):
        w = np.array([seg.job_boost.get(j, 1.0) for j in jobs])
        job_probs[s] = w / w.sum()
    job = jobs[_draw_categorical(rng, segment, job_probs)]
    job = np.where(rng.random(n) < _per_segment(segment, [s.job_title for s in SEGMENTS]), job, None)

    levels = np.array(catalog.EDUCATION_LEVELS, dtype=object)
    education = np.where(
        rng.random(n) < _per_segment(segment, [s.education for s in SEGMENTS]),
        levels[rng.choice(len(levels), n, p=[0.05, 0.08, 0.04, 0.38, 0.33, 0.04, 0.08])],
        None,
    )

    # Companies: a pool with Zipf sizes; ids are HubSpot-like 10-digit numbers written as floats.
    pool = np.sort(rng.choice(np.arange(2_000_000, 5_600_000), 25_000, replace=False)) * 1_000.0
    zipf = 1.0 / np.arange(1, len(pool) + 1) ** 0.8
    company = pool[rng.choice(len(pool), n, p=zipf / zipf.sum())]
    company = np.where(rng.random(n) < _per_segment(segment, [s.company for s in SEGMENTS]), company, np.nan)

    event_names, event_dates = catalog.event_catalog()
    others = rng.integers(1, len(event_names), n)
    top = rng.random(n) < _per_segment(segment, [s.event_top for s in SEGMENTS])
    event_idx = np.where(top, 0, others)
    has_event = rng.random(n) < _per_segment(segment, [s.event for s in SEGMENTS])
    event = np.where(has_event, event_names[event_idx], None)
    event_at = np.where(has_event, event_dates[event_idx].astype(np.int64).astype(float), np.nan)
    return {
        "job_title": job,
        "education": education,
        "company": company,
        "event": event,
        "event_at": event_at,
    }


def draw_sessions(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    """Number of Sessions: zero for most contacts, geometric tail for the rest."""
    n = len(segment)
    zero = rng.random(n) < _per_segment(segment, [s.sessions_zero for s in SEGMENTS])
    q = _per_segment(segment, [s.sessions_geometric for s in SEGMENTS])
    return np.where(zero, 0, rng.geometric(np.clip(q, 1e-6, 1.0)))


def draw_pageviews(rng: np.random.Generator, sessions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pageviews and Average Pageviews; as in the real export some contacts with sessions have no pageview."""
    n = len(sessions)
    untracked = rng.random(n) < 0.13
    extra = rng.negative_binomial(1, 0.6, n) * sessions
    # A few heavy readers: the spec's Average Pageviews reaches 88.
    extra = np.where(rng.random(n) < 0.004, extra + sessions * rng.integers(5, 80, n), extra)
    pageviews = np.where((sessions > 0) & ~untracked, sessions + extra, 0)
    average = np.where(sessions > 0, np.round(pageviews / np.maximum(sessions, 1)), 0).astype(np.int64)
    return pageviews, average
