"""Simulate the clean contact population: every property, the recorded journey and the planted truth.

The result is a column store of NumPy arrays (one entry per contact, in Contact ID order); formatting,
dirt and files are the writer's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from journeys.synth import browsing, buying, planted_segments, url_templates

# Spec: 325,025 of 336,955 contacts are rows of pageview_hist.csv; 90,533 of ~102,300 contacts with a
# session have a recorded current page; 1.6% of contacts with a session have no First Page Seen.
HISTORY_ROW_SHARE = 325_025 / 336_955
RECORDED_SHARE = 0.885
FIRST_PAGE_MISSING = 0.016
LAST_ACTIVITY_SHARE = 40 / 336_955

_FIRST_NAMES = (
    "james",
    "mary",
    "wei",
    "priya",
    "carlos",
    "ana",
    "mohamed",
    "fatima",
    "john",
    "linda",
    "raj",
    "sofia",
    "li",
    "yuki",
    "david",
    "maria",
    "ahmed",
    "olga",
    "daniel",
    "emma",
    "arjun",
    "chen",
    "lucas",
    "amara",
    "ivan",
    "nina",
    "kwame",
    "sara",
    "tom",
    "julia",
    "omar",
    "lea",
    "hiro",
    "grace",
    "pedro",
    "aisha",
)
_LAST_NAMES = (
    "smith",
    "kumar",
    "wang",
    "garcia",
    "mueller",
    "nguyen",
    "patel",
    "silva",
    "kim",
    "brown",
    "singh",
    "lopez",
    "chen",
    "ivanov",
    "okafor",
    "tanaka",
    "johnson",
    "rossi",
    "martin",
    "sharma",
    "ali",
    "lee",
    "dubois",
    "novak",
    "mensah",
    "costa",
    "yamamoto",
    "fischer",
    "haddad",
    "jones",
)
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "corp.example.com")


@dataclass(frozen=True)
class Population:
    """Clean simulated contacts; arrays of length n unless noted. Times are float minutes, NaN = missing."""

    contact_id: np.ndarray
    segment: np.ndarray
    lifecycle: dict[str, np.ndarray]
    country: np.ndarray  # index into catalog.COUNTRIES, -1 = missing
    emails: dict[str, np.ndarray]
    profile: dict[str, np.ndarray]
    sessions: np.ndarray
    pageviews: np.ndarray
    average_pageviews: np.ndarray
    last_activity: np.ndarray
    in_history_file: np.ndarray
    recorded_pages: np.ndarray  # (n, 4) chronological page types in pageview_hist (post-purchase ones too)
    page_times: np.ndarray  # (n, 4) change minutes of the journey pages, NaN padding
    page_urls: np.ndarray  # (n, 4) URLs of the journey pages (recorded or not), None padding
    entry_page_url: np.ndarray  # First Page Seen of contacts whose first session is no longer in the journey
    first_page_missing: np.ndarray  # First Page Seen left empty although the contact has sessions
    email_address: np.ndarray
    buy_probability: np.ndarray
    buy_probability_shuffled: np.ndarray  # the same model on the contact's recorded pages in shuffled order
    is_buyer: np.ndarray
    purchased_at: np.ndarray  # minute of a buyer's (first) purchase, NaN for the others
    courses: np.ndarray


def _contact_ids(rng: np.random.Generator, n: int, after: int) -> np.ndarray:
    """Increasing HubSpot-like ids above `after`, with gaps (deleted and merged records)."""
    return after + np.cumsum(rng.integers(1, 12, n))


def chunk_ids_after(sizes: Sequence[int], seed: int, first_after: int = 51) -> list[int]:
    """The id each chunk's ids continue from (`simulate`'s `ids_after`) for chunks of `sizes` contacts drawn from
    (seed, chunk index): the last id of the chunk before, from the id stream alone, so chunks can be simulated
    in any order."""
    after = [first_after]
    for index, n in enumerate(sizes[:-1]):
        ids = np.random.default_rng(np.random.SeedSequence((seed, index)).spawn(len(STREAMS))[0])
        after.append(int(_contact_ids(ids, n, after[-1])[-1]))
    return after


def _email_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fake but realistic-looking addresses on reserved example domains; unrelated to any other field."""
    first = np.array(_FIRST_NAMES, dtype=object)[rng.integers(0, len(_FIRST_NAMES), n)]
    last = np.array(_LAST_NAMES, dtype=object)[rng.integers(0, len(_LAST_NAMES), n)]
    number = rng.integers(1, 9999, n).astype(str).astype(object)
    domain = np.array(_EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(_EMAIL_DOMAINS), n)]
    initial = np.array([s[:1] for s in _FIRST_NAMES], dtype=object)[rng.integers(0, len(_FIRST_NAMES), n)]
    style = rng.integers(0, 4, n)
    local = np.select(
        [style == 0, style == 1, style == 2],
        [first + "." + last, initial + last + number, first + "_" + last + number],
        first + last,
    )
    return local + "@" + domain


def shuffle_pages(rng: np.random.Generator, pages: np.ndarray) -> np.ndarray:
    """Each row's filled pages (left-aligned, -1 padding) in a random order: the same pages, no path."""
    keys = np.where(pages >= 0, rng.random(pages.shape), 2.0)
    return np.take_along_axis(pages, np.argsort(keys, axis=1, kind="stable"), axis=1)


# One independent random stream per part of the simulation, in the order they are spawned from the seed: a part
# drawing more or fewer numbers never shifts another part's draws.
STREAMS = ("contact_ids", "segments", "lifecycle", "country", "emails", "profile", "activity", "journeys",
           "page_urls", "entry_pages", "purchases", "email_addresses", "shuffled_pages", "after_purchase")


def simulate(n_contacts: int, seed: int | Sequence[int], ids_after: int = 51) -> Population:
    """Draw contacts of a synthetic export from the planted model, with ids above `ids_after`.

    `seed` is an int or a sequence of ints: the writer draws each chunk from (seed, chunk index).
    """
    rng = dict(zip(STREAMS, (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(STREAMS))),
                   strict=True))
    n = n_contacts
    segment = planted_segments.draw_segments(rng["segments"], n)
    lifecycle = planted_segments.draw_lifecycle(rng["lifecycle"], segment)
    country = planted_segments.draw_country(rng["country"], segment)
    emails = planted_segments.draw_emails(rng["emails"], segment, lifecycle["join"])

    sessions = planted_segments.draw_sessions(rng["activity"], segment)
    pageviews, average = planted_segments.draw_pageviews(rng["activity"], sessions)
    journey_length = np.minimum(sessions, browsing.MAX_PAGES)
    recorded = (sessions > 0) & (rng["activity"].random(n) < RECORDED_SHARE)
    others_share = (HISTORY_ROW_SHARE * n - recorded.sum()) / max(n - recorded.sum(), 1)
    in_history_file = recorded | (rng["activity"].random(n) < others_share)

    journey = _journeys(rng["journeys"], segment, journey_length, lifecycle)
    # Truth sees only the recorded pages before the conversion: what the contact saw before deciding.
    pre_pages = np.where(recorded[:, None] & journey.before_conversion, journey.pages, -1)

    long_history = sessions > browsing.MAX_PAGES
    entry_pages = browsing.draw_entry_pages(rng["entry_pages"], segment[long_history])
    first_page_missing = rng["entry_pages"].random(n) < FIRST_PAGE_MISSING
    last_activity_drawn = rng["entry_pages"].random(n) < LAST_ACTIVITY_SHARE

    probability = buying.buy_probability(segment, country, sessions, pre_pages)
    is_buyer = rng["purchases"].random(n) < probability
    courses = buying.draw_courses(rng["purchases"], segment, is_buyer)
    shuffled = buying.buy_probability(segment, country, sessions, shuffle_pages(rng["shuffled_pages"], pre_pages))

    # A buyer's sessions after its conversion are post-purchase browsing; a buyer without an earlier
    # conversion converts (the course-signup form) minutes before buying, after its last session.
    post_purchase = is_buyer[:, None] & journey.filled & ~journey.before_conversion
    pages = np.where(post_purchase, browsing.draw_post_purchase_pages(rng["after_purchase"], n), journey.pages)
    purchased_at, first_conversion = buying.draw_purchase_times(
        rng["after_purchase"], is_buyer, lifecycle["first_conversion"], journey.times, journey_length,
        journey.n_post, lifecycle["join"])
    last_page_at = np.nanmax(np.where(journey.filled, journey.times, -np.inf), axis=1)
    last_activity = np.where(
        last_activity_drawn, np.fmax(np.fmax(emails["last_open"], emails["last_send"]),
                                     np.where(np.isfinite(last_page_at), last_page_at, np.nan)), np.nan
    )
    page_urls = np.full(pages.shape, None, dtype=object)
    page_urls[journey.filled] = url_templates.render_urls(rng["page_urls"], pages[journey.filled])
    entry_page_url = np.full(n, None, dtype=object)
    entry_page_url[long_history] = url_templates.render_urls(rng["entry_pages"], entry_pages)
    return Population(
        contact_id=_contact_ids(rng["contact_ids"], n, ids_after),
        segment=segment,
        lifecycle={**lifecycle, "first_conversion": first_conversion},
        country=country,
        emails=emails,
        profile=planted_segments.draw_profile(rng["profile"], segment),
        sessions=sessions,
        pageviews=pageviews,
        average_pageviews=average,
        last_activity=last_activity,
        in_history_file=in_history_file,
        recorded_pages=np.where(recorded[:, None], pages, -1),
        page_times=journey.times,
        page_urls=page_urls,
        entry_page_url=entry_page_url,
        first_page_missing=first_page_missing,
        email_address=_email_addresses(rng["email_addresses"], n),
        buy_probability=probability,
        buy_probability_shuffled=shuffled,
        is_buyer=is_buyer,
        purchased_at=purchased_at,
        courses=courses,
    )


@dataclass(frozen=True)
class _Journeys:
    """The journey pages as browsed (before post-purchase pages replace a buyer's later ones) and their times."""

    pages: np.ndarray  # (n, 4) chronological page types, -1 padding
    times: np.ndarray  # (n, 4) change minutes, NaN padding
    filled: np.ndarray  # (n, 4) a page is there
    n_post: np.ndarray  # sessions after the first conversion
    before_conversion: np.ndarray  # (n, 4) the page was seen before the first conversion


def _journeys(rng: np.random.Generator, segment: np.ndarray, length: np.ndarray,
              lifecycle: dict[str, np.ndarray]) -> _Journeys:
    """Each contact's journey pages and times; a contact with a conversion keeps browsing after it."""
    pages = browsing.draw_journeys(rng, segment, length)
    times = browsing.draw_page_times(rng, length, lifecycle["join"])
    conversion = lifecycle["first_conversion"]
    converted = ~np.isnan(conversion) & (length > 0)
    n_post = browsing.draw_post_conversion_sessions(rng, length, converted)
    times[converted] = browsing.draw_page_times_around(rng, length[converted], n_post[converted], conversion[converted])
    before_conversion = np.arange(browsing.MAX_PAGES)[None, :] < (length - n_post)[:, None]
    return _Journeys(pages, times, pages >= 0, n_post, before_conversion)
