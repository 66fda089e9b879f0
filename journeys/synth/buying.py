"""Planted purchase model: each contact's buy probability and the courses a buyer took.

The log-odds add a segment intercept, a country effect, a sessions effect and the RECORDED journey (the
pages in the history file): page types that appear, and ordered pairs of consecutive pages, where
specialization -> course signup weighs far more than course signup -> specialization. Pages that HubSpot
did not record have no effect, so a model that sees the history can in principle reach truth's AUC.
"""

from __future__ import annotations

import numpy as np

from journeys.synth import catalog
from journeys.synth.segments import SEGMENTS

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
    "specialization": 0.55,
    "course signup": 0.45,
    "course": 0.25,
    "forum": 0.3,
    "yearning": -0.05,
    "batch": -0.15,
    "blog": -0.1,
    "unsubscribe": -1.2,
    "career": -0.2,
    "press": -0.2,
}
PAIR_EFFECTS: dict[tuple[str, str], float] = {
    ("specialization", "course signup"): 1.8,
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
    page_term = np.where(filled, _page_table()[np.maximum(pages, 0)], 0.0).sum(axis=1)
    pair = _pair_table()
    both = filled[:, :-1] & filled[:, 1:]
    pair_term = np.where(both, pair[np.maximum(pages[:, :-1], 0), np.maximum(pages[:, 1:], 0)], 0.0).sum(
        axis=1
    )
    return intercept + country_term + SESSIONS_EFFECT * np.log1p(sessions) + page_term + pair_term


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
