"""Page journeys: a segment-specific Markov chain over page types, one page per session, with dates.

HubSpot overwrites "Last Page Seen" once per session and keeps the last four values, so a contact with
`s` sessions has min(s, 4) recorded pages. Pages are held chronologically (oldest first, left-aligned,
-1 padding) in an (n, 4) integer matrix of `catalog.PAGE_TYPES` indices.
"""

from __future__ import annotations

import numpy as np

from journeys.synth import catalog
from journeys.synth.segments import DAY, EXPORT_END, SEGMENTS, SESSIONS_START

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


def draw_entry_pages(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    """Page type of a contact's very first page, for contacts whose first session is no longer recorded."""
    initial, _ = transition_matrices()
    return _draw_rows(rng, np.cumsum(initial, axis=1)[segment])


def draw_page_times(rng: np.random.Generator, n_pages: np.ndarray, join: np.ndarray) -> np.ndarray:
    """Chronological change minutes (n, MAX_PAGES), NaN past `n_pages`; strictly increasing per contact.

    The latest session follows the contact's join date (or any time for contacts without one); earlier
    sessions are spaced by exponential gaps of about three weeks, never closer than 31 minutes, and never
    before SESSIONS_START.
    """
    n = len(n_pages)
    anchor = np.where(np.isnan(join), SESSIONS_START + 60 * DAY, join)
    span = np.maximum(EXPORT_END - anchor, DAY)
    last = np.floor(anchor + span * rng.beta(1.2, 1.0, n))
    gaps = np.floor(31 + rng.exponential(21 * DAY, (n, MAX_PAGES - 1)))
    gaps[np.arange(MAX_PAGES - 1)[None, :] >= (n_pages - 1)[:, None]] = 0
    total = gaps.sum(axis=1)
    room = last - SESSIONS_START
    scale = np.where(total > room, room / np.maximum(total, 1), 1.0)
    gaps = np.maximum(np.floor(gaps * scale[:, None]), np.where(gaps > 0, 31, 0))
    # Slot i lies the sum of gaps i .. (n_pages - 2) before the latest session.
    back = np.cumsum(gaps[:, ::-1], axis=1)[:, ::-1]
    offset = np.concatenate([back, np.zeros((n, 1))], axis=1)
    times = last[:, None] - offset
    times[np.arange(MAX_PAGES)[None, :] >= n_pages[:, None]] = np.nan
    return times
