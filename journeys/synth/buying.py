"""Planted purchase model: each contact's buy probability and the courses a buyer took.

The log-odds add a segment intercept, a country effect, a sessions effect and the RECORDED journey (the
pages in the history file). The journey term has three parts, two of which only order can tell:
- page types that appear, weighted by recency (`RECENCY_WEIGHTS`: the latest page counts most);
- ordered pairs of consecutive pages (course -> course signup, events -> register, ...);
- a specialization page at ANY earlier position before a course-signup page (`SPECIALIZATION_BEFORE_SIGNUP`),
  whether adjacent or not, while course signup -> specialization weighs slightly against.
Recency and the non-adjacent specialization-before-signup path cannot be written as adjacent pairs, so a
bag of pages plus bigrams misses them; shuffling each contact's pages lowers truth's own ROC AUC among
contacts with history by about 0.03 (`truth_order_effect`, pytests/test_evaluation.py). Pages that
HubSpot did not record have no effect, so a model that sees the history can in principle reach truth's AUC.

Only pages seen BEFORE the contact's First Conversion Date count (contacts/journeys: the sessions after a
conversion; a buyer's are post-purchase browsing). `draw_purchase_times` places each buyer's purchase
(truth.csv's `purchased_at`) after its conversion, or makes the course-signup form just before the purchase
its First Conversion Date when it had none.
"""

from __future__ import annotations

import numpy as np

from journeys.synth import catalog
from journeys.synth.planted_segments import DAY, EXPORT_END, FIRST_CONVERSION_MIN, SEGMENTS, SESSIONS_START

COUNTRY_EFFECTS: dict[str, float] = {
    "us": 0.35,
    "gb": 0.3,
    "de": 0.3,
    "ca": 0.3,
    "ch": 0.3,
    "nl": 0.2,
    "sg": 0.3,
    "in": -0.1,
    "cn": -0.5,
}
MISSING_COUNTRY_EFFECT = -0.35
SESSIONS_EFFECT = 0.65  # per unit of log1p(sessions)
PAGE_EFFECTS: dict[str, float] = {
    "specialization": 0.825,
    "course signup": 0.675,
    "course": 0.375,
    "forum": 0.45,
    "yearning": -0.075,
    "batch": -0.225,
    "blog": -0.15,
    "unsubscribe": -1.8,
    "career": -0.3,
    "press": -0.3,
}
# Weight of a page type's effect by recency: the latest recorded page, the one before, ... (oldest last).
RECENCY_WEIGHTS = (3.0, 0.6, 0.2, 0.0)
# A specialization page anywhere before a course-signup page (not only just before it).
SPECIALIZATION_BEFORE_SIGNUP = 3.0
# Shift of every recorded journey's log-odds, so the page effects above keep the buyer rate in the spec's band.
JOURNEY_OFFSET = -0.55
PAIR_EFFECTS: dict[tuple[str, str], float] = {
    ("course", "course signup"): 1.0,
    ("yearning", "specialization"): 0.5,
    ("home", "specialization"): 0.3,
    ("course signup", "specialization"): -0.2,
    ("course signup", "course"): -0.2,
    ("events", "register"): 0.3,
}


def _page_table() -> np.ndarray:
    return np.array([PAGE_EFFECTS.get(t, 0.0) for t in catalog.PAGE_TYPES])


def _pair_table() -> np.ndarray:
    table = np.zeros((len(catalog.PAGE_TYPES), len(catalog.PAGE_TYPES)))
    for (a, b), effect in PAIR_EFFECTS.items():
        table[catalog.PAGE[a], catalog.PAGE[b]] = effect
    return table


def buy_logit(
    segment: np.ndarray, country: np.ndarray, sessions: np.ndarray, pages: np.ndarray
) -> np.ndarray:
    """Log-odds of buying.

    `country` indexes catalog.COUNTRIES (-1 when missing); `pages` is (n, k) chronological page type
    indices (oldest first, -1 padding) of the recorded journey.
    """
    intercept = np.array([s.buy_intercept for s in SEGMENTS])[segment]
    effects = np.array([COUNTRY_EFFECTS.get(c, 0.0) for c in catalog.COUNTRY_CODES])
    country = np.asarray(country, dtype=np.int64)
    country_term = np.where(country >= 0, effects[np.maximum(country, 0)], MISSING_COUNTRY_EFFECT)
    pages = np.asarray(pages, dtype=np.int64)
    filled = pages >= 0
    # Recency of each slot: 0 for the latest filled page (journeys are left-aligned, oldest first).
    recency = filled.sum(axis=1, keepdims=True) - 1 - np.arange(pages.shape[1])[None, :]
    weights = np.asarray(RECENCY_WEIGHTS)[np.clip(recency, 0, len(RECENCY_WEIGHTS) - 1)]
    page_term = np.where(filled, weights * _page_table()[np.maximum(pages, 0)], 0.0).sum(axis=1)
    path_term = SPECIALIZATION_BEFORE_SIGNUP * _appears_before(pages, catalog.PAGE["specialization"],
                                                               catalog.PAGE["course signup"])
    pair = _pair_table()
    both = filled[:, :-1] & filled[:, 1:]
    pair_term = np.where(both, pair[np.maximum(pages[:, :-1], 0), np.maximum(pages[:, 1:], 0)], 0.0).sum(
        axis=1
    )
    return (intercept + country_term + SESSIONS_EFFECT * np.log1p(sessions) + page_term + pair_term
            + path_term + np.where(filled.any(axis=1), JOURNEY_OFFSET, 0.0))


def _appears_before(pages: np.ndarray, first: int, then: int) -> np.ndarray:
    """1.0 where page type `first` occurs at some position before a page of type `then`, else 0.0."""
    seen_first = np.cumsum(pages == first, axis=1) > 0
    return ((pages[:, 1:] == then) & seen_first[:, :-1]).any(axis=1).astype(np.float64)


def buy_probability(
    segment: np.ndarray, country: np.ndarray, sessions: np.ndarray, pages: np.ndarray
) -> np.ndarray:
    """Probability of having bought at least one course (the logistic of `buy_logit`)."""
    return 1.0 / (1.0 + np.exp(-buy_logit(segment, country, sessions, pages)))


def draw_courses(rng: np.random.Generator, segment: np.ndarray, is_buyer: np.ndarray) -> np.ndarray:
    """The courses field: `; `-joined course names for buyers (a few took two), None otherwise."""
    n = len(segment)
    names = np.array([c for c, _ in catalog.COURSES], dtype=object)
    mix = np.array([s.course_mix for s in SEGMENTS])[segment]
    cdf = np.cumsum(mix, axis=1)
    first = np.minimum((cdf < rng.random(n)[:, None]).sum(axis=1), len(names) - 1)
    # A second course is the other of the two big ones (the spec's small courses hardly overlap).
    second = np.where(first == 0, 1, 0)
    two = rng.random(n) < 0.022
    # Courses in catalogue order, as HubSpot lists a multi-select property.
    low, high = np.minimum(first, second), np.maximum(first, second)
    joined = np.where(two, names[low] + "; " + names[high], names[first])
    return np.where(is_buyer, joined, None)


def draw_purchase_times(
    rng: np.random.Generator,
    is_buyer: np.ndarray,
    conversion: np.ndarray,
    page_times: np.ndarray,
    n_pages: np.ndarray,
    n_post: np.ndarray,
    join: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each buyer's purchase minute (NaN for the others) and the First Conversion Dates it implies.

    A buyer with a conversion buys after it (within a week, before its first later session); a buyer
    without one buys after its last session (or its join date) and converts on the course-signup form 1 to
    30 minutes before buying, which becomes its First Conversion Date.
    """
    n = len(is_buyer)
    rows = np.arange(n)
    converted = ~np.isnan(conversion)
    first_post = page_times[rows, np.clip(n_pages - n_post, 0, page_times.shape[1] - 1)]
    following = np.where(n_post > 0, first_post, EXPORT_END)
    room = np.clip(np.minimum(following - conversion - 2, 7 * DAY), 1, None)
    after_conversion = conversion + 1 + np.floor(rng.random(n) * room)

    last_page = page_times[rows, np.maximum(n_pages - 1, 0)]
    anytime = SESSIONS_START + np.floor(rng.random(n) * (EXPORT_END - SESSIONS_START))
    base = np.where(n_pages > 0, last_page, np.where(np.isnan(join), anytime, join))
    gap = np.minimum(60 + np.floor(rng.exponential(5 * DAY, n)), np.floor(0.9 * (EXPORT_END - base)))
    bought = np.clip(np.maximum(base + np.maximum(gap, 1), FIRST_CONVERSION_MIN + 30), None, EXPORT_END)
    converts_at = np.clip(bought - rng.integers(1, 31, n), np.minimum(base + 1, bought), bought)

    purchased = np.where(is_buyer, np.where(converted, after_conversion, bought), np.nan)
    first_conversion = np.where(is_buyer & ~converted, converts_at, conversion)
    return purchased, first_conversion
