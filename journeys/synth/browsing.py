"""Page journeys: a segment-specific Markov chain over page types, one page per session, with dates.

HubSpot overwrites "Last Page Seen" once per session and keeps the last four values, so a contact with
`s` sessions has min(s, 4) recorded pages. Pages are held chronologically (oldest first, left-aligned,
-1 padding) in an (n, 4) integer matrix of `catalog.PAGE_TYPES` indices.

Contacts with a First Conversion Date (a form submission) keep browsing after it: the last
`draw_post_conversion_sessions` of their recorded sessions lie after the conversion, the others before
(`draw_page_times_around`). A buyer's sessions after the conversion are post-purchase browsing
(`draw_post_purchase_pages`: course pages, forums), as on a real export measured after the purchase.
"""

from __future__ import annotations

import numpy as np

from journeys.synth import catalog
from journeys.synth.planted_segments import DAY, EXPORT_END, SEGMENTS, SESSIONS_START

MAX_PAGES = 4
_N_TYPES = len(catalog.PAGE_TYPES)

# Shared structure of moves between page types (row: from, column: to), added to a flat base; each
# segment's affinities then reweight the destinations. Deliberately asymmetric: a specialization page
# leads to course signup far more often than the reverse, so order carries information.
_TRANSITION_BOOSTS: tuple[tuple[str, str, float], ...] = (
    ("specialization", "course signup", 3.0),
    ("course", "course signup", 2.0),
    ("course signup", "specialization", 0.4),
    ("yearning", "specialization", 0.8),
    ("home", "specialization", 0.5),
    ("home", "course", 0.5),
    ("home", "events", 0.5),
    ("events", "register", 3.0),
    ("register", "events", 1.0),
    ("blog", "batch", 1.0),
    ("batch", "blog", 1.0),
    ("subscribe", "batch", 1.5),
    ("batch", "unsubscribe", 0.4),
    ("career", "about", 1.0),
    ("about", "career", 1.0),
    ("contact", "about", 0.8),
    ("about", "contact", 0.8),
)
# Pages people land on first: entry pages are more likely at the start of a journey.
_ENTRY_BOOSTS = {"home": 2.0, "yearning": 1.5, "blog": 1.5, "batch": 1.3, "events": 1.3}


def transition_matrices() -> tuple[np.ndarray, np.ndarray]:
    """(segments, types) initial distributions and (segments, types, types) transition matrices."""
    base = np.full((_N_TYPES, _N_TYPES), 0.25)
    base[np.arange(_N_TYPES), np.arange(_N_TYPES)] += 1.0
    for src, dst, boost in _TRANSITION_BOOSTS:
        base[catalog.PAGE[src], catalog.PAGE[dst]] += boost
    initial = np.empty((len(SEGMENTS), _N_TYPES))
    transition = np.empty((len(SEGMENTS), _N_TYPES, _N_TYPES))
    entry = np.array([_ENTRY_BOOSTS.get(t, 1.0) for t in catalog.PAGE_TYPES])
    for s, seg in enumerate(SEGMENTS):
        affinity = np.array([seg.page_affinity.get(t, 0.05) for t in catalog.PAGE_TYPES])
        initial[s] = affinity * entry / (affinity * entry).sum()
        weights = base * affinity[None, :]
        transition[s] = weights / weights.sum(axis=1, keepdims=True)
    return initial, transition


def _draw_rows(rng: np.random.Generator, cdf_rows: np.ndarray) -> np.ndarray:
    """One draw per row of a matrix of CDFs, vectorised."""
    u = rng.random(len(cdf_rows))
    return np.minimum((cdf_rows < u[:, None]).sum(axis=1), _N_TYPES - 1)


def draw_journeys(rng: np.random.Generator, segment: np.ndarray, n_pages: np.ndarray) -> np.ndarray:
    """Chronological page types (n, MAX_PAGES), -1 past each contact's `n_pages`."""
    n = len(segment)
    initial, transition = transition_matrices()
    init_cdf = np.cumsum(initial, axis=1)
    trans_cdf = np.cumsum(transition, axis=2)
    pages = np.full((n, MAX_PAGES), -1, dtype=np.int64)
    current = _draw_rows(rng, init_cdf[segment])
    pages[:, 0] = current
    for step in range(1, MAX_PAGES):
        current = _draw_rows(rng, trans_cdf[segment, current])
        pages[:, step] = current
    pages[np.arange(MAX_PAGES)[None, :] >= n_pages[:, None]] = -1
    return pages


def walk_sessions(rng: np.random.Generator, segment: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Page types of sessions laid out flat, one entry per page (`step` 0 starts a session, then 1, 2, ...): the
    segment's initial distribution, then its chain from the page before."""
    initial, transition = transition_matrices()
    init_cdf, trans_cdf = np.cumsum(initial, axis=1), np.cumsum(transition, axis=2)
    page = np.zeros(len(step), dtype=np.int64)
    at = np.flatnonzero(step == 0)
    page[at] = _draw_rows(rng, init_cdf[segment[at]])
    for k in range(1, int(step.max(initial=0)) + 1):
        at = np.flatnonzero(step == k)
        page[at] = _draw_rows(rng, trans_cdf[segment[at], page[at - 1]])
    return page


def draw_entry_pages(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    """Page type of a contact's very first page, for contacts whose first session is no longer recorded."""
    initial, _ = transition_matrices()
    return _draw_rows(rng, np.cumsum(initial, axis=1)[segment])


# Number of a converted contact's recorded sessions that come after its conversion: 0, 1, 2, 3 (capped at
# sessions - 1, so a page before the conversion stays). The same for buyers and non-buyers, so that how
# many pages a cut at the conversion removes says nothing about buying.
POST_CONVERSION_SESSIONS = (0.5, 0.25, 0.15, 0.10)
# Page types of a buyer's post-purchase sessions: the course bought, its forums, the specialization page.
POST_PURCHASE_PAGES: dict[str, float] = {
    "course": 0.34,
    "forum": 0.26,
    "specialization": 0.14,
    "course signup": 0.04,
    "home": 0.08,
    "blog": 0.05,
    "batch": 0.05,
    "events": 0.04,
}
_MIN_GAP = 31  # minutes between two sessions' page views, at least
_SESSION_GAP_DAYS = 21  # mean gap between sessions


def draw_post_conversion_sessions(
    rng: np.random.Generator, sessions: np.ndarray, converted: np.ndarray
) -> np.ndarray:
    """How many of each contact's recorded sessions follow its conversion (0 without a conversion)."""
    draw = np.minimum((np.cumsum(POST_CONVERSION_SESSIONS)[None, :] < rng.random(len(sessions))[:, None]).sum(
        axis=1), len(POST_CONVERSION_SESSIONS) - 1)
    return np.where(converted, np.clip(np.minimum(draw, sessions - 1), 0, None), 0).astype(np.int64)


def draw_post_purchase_pages(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, MAX_PAGES) page types of post-purchase sessions, drawn from POST_PURCHASE_PAGES."""
    weights = np.array([POST_PURCHASE_PAGES.get(t, 0.0) for t in catalog.PAGE_TYPES])
    cdf = np.cumsum(weights / weights.sum())
    return np.minimum((cdf[None, :] < rng.random((n * MAX_PAGES, 1))).sum(axis=1), _N_TYPES - 1).reshape(
        n, MAX_PAGES)


def _spaced_before(rng: np.random.Generator, last: np.ndarray, count: np.ndarray, floor: float) -> np.ndarray:
    """Chronological minutes (n, MAX_PAGES) of `count` sessions ending at `last`, NaN padding.

    Gaps are exponential (about three weeks), never under _MIN_GAP, squeezed to start after `floor`.
    """
    n = len(count)
    gaps = np.floor(_MIN_GAP + rng.exponential(_SESSION_GAP_DAYS * DAY, (n, MAX_PAGES - 1)))
    gaps[np.arange(MAX_PAGES - 1)[None, :] >= (count - 1)[:, None]] = 0
    total = gaps.sum(axis=1)
    room = last - floor
    scale = np.where(total > room, room / np.maximum(total, 1), 1.0)
    gaps = np.maximum(np.floor(gaps * scale[:, None]), np.where(gaps > 0, _MIN_GAP, 0))
    # Slot i lies the sum of gaps i .. (count - 2) before the latest session.
    back = np.cumsum(gaps[:, ::-1], axis=1)[:, ::-1]
    times = last[:, None] - np.concatenate([back, np.zeros((n, 1))], axis=1)
    times[np.arange(MAX_PAGES)[None, :] >= count[:, None]] = np.nan
    return times


def _spaced_after(rng: np.random.Generator, start: np.ndarray, count: np.ndarray, ceiling: float) -> np.ndarray:
    """Chronological minutes (n, MAX_PAGES) of `count` sessions after `start`, squeezed before `ceiling`."""
    n = len(count)
    gaps = np.floor(_MIN_GAP + rng.exponential(_SESSION_GAP_DAYS * DAY, (n, MAX_PAGES)))
    gaps[np.arange(MAX_PAGES)[None, :] >= count[:, None]] = 0
    total = gaps.sum(axis=1)
    room = ceiling - start
    scale = np.where(total > room, room / np.maximum(total, 1), 1.0)
    gaps = np.maximum(np.floor(gaps * scale[:, None]), np.where(gaps > 0, _MIN_GAP, 0))
    times = start[:, None] + np.cumsum(gaps, axis=1)
    times[np.arange(MAX_PAGES)[None, :] >= count[:, None]] = np.nan
    return times


def draw_page_times_around(
    rng: np.random.Generator, n_pages: np.ndarray, n_post: np.ndarray, conversion: np.ndarray
) -> np.ndarray:
    """Chronological minutes (n, MAX_PAGES) of converted contacts: `n_pages - n_post` sessions before the
    conversion (the latest minutes to days before the form), `n_post` after it, none at the same minute."""
    n_pre = n_pages - n_post
    pre_end = conversion - np.floor(5 + rng.exponential(2 * DAY, len(n_pages)))
    pre_end = np.maximum(pre_end, SESSIONS_START + MAX_PAGES * _MIN_GAP)
    pre = _spaced_before(rng, pre_end, n_pre, SESSIONS_START)
    post = _spaced_after(rng, conversion, n_post, EXPORT_END)
    slot = np.arange(MAX_PAGES)[None, :]
    shifted = np.take_along_axis(post, np.clip(slot - n_pre[:, None], 0, MAX_PAGES - 1), axis=1)
    return np.where(slot < n_pre[:, None], pre, np.where(slot < n_pages[:, None], shifted, np.nan))


def draw_page_times(rng: np.random.Generator, n_pages: np.ndarray, join: np.ndarray) -> np.ndarray:
    """Chronological change minutes (n, MAX_PAGES), NaN past `n_pages`; strictly increasing per contact.

    The latest session follows the contact's join date (or any time for contacts without one); earlier
    sessions are spaced by exponential gaps of about three weeks, never closer than 31 minutes, and never
    before SESSIONS_START.
    """
    anchor = np.where(np.isnan(join), SESSIONS_START + 60 * DAY, join)
    span = np.maximum(EXPORT_END - anchor, DAY)
    last = np.floor(anchor + span * rng.beta(1.2, 1.0, len(n_pages)))
    return _spaced_before(rng, last, n_pages, SESSIONS_START)
