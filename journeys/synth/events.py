"""page_events.csv: every contact's event stream, consistent with the export written beside it.

A contact's stream holds
- page views, as many as its Number of Pageviews (at least its journey pages): the last ones are its journey
  pages at their change times with the URLs pageview_hist.csv shows, so the 4-slot history is the stream's
  last four page views; the earlier ones walk the segment's page chain in sessions of a few minutes, days
  apart, before the first journey page;
- its marketing e-mail opens and clicks (`email_open`, `email_click`), as many as the export counts, the first
  and last at the export's first and last open (click) dates;
- one `purchase` event per buyer at its purchase time (truth.csv's `purchased_at`, drawn by
  `journeys.synth.buying.draw_purchase_times`: after the pages it saw before converting; the journey pages
  after it are post-purchase browsing).
Rows are ordered by contact and time. Columns: contact_id, occurred_at, url, event (no session_id: sessions
come from the inactivity gap).

Streams are numbers (contact row, minute, an index into the URLs, an event code) until DuckDB writes them as
CSV text: no Python string per event, so a chunk of 4.6 million events costs memory for its arrays only.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

import duckdb
import numpy as np
import pandas as pd

from journeys.synth import browsing, url_templates
from journeys.synth.planted_segments import SESSIONS_START

EVENTS_FILE = "page_events.csv"
EVENT_COLUMNS = ("contact_id", "occurred_at", "url", "event")
EVENT_NAMES = ("page_view", "email_open", "email_click", "purchase")  # page views have no event name
PAGE_VIEW, EMAIL_OPEN, EMAIL_CLICK, PURCHASE = range(len(EVENT_NAMES))


@dataclass(frozen=True)
class Streams:
    """Flat event arrays, one entry per event: contact row, minute, index into `urls` (-1 for an e-mail event or a
    purchase) and index into EVENT_NAMES."""

    row: np.ndarray
    minute: np.ndarray
    url: np.ndarray
    event: np.ndarray
    urls: np.ndarray


def event_streams(
    rng: np.random.Generator,
    segment: np.ndarray,
    sessions: np.ndarray,
    pageviews: np.ndarray,
    page_times: np.ndarray,
    page_urls: np.ndarray,
    emails: dict[str, np.ndarray],
    purchased_at: np.ndarray,
) -> Streams:
    """Every contact's events (rows index the contacts); see the module docstring for what a stream holds.

    `page_times` / `page_urls` are the (n, 4) chronological journey pages (NaN / None padding) as written to
    pageview_hist.csv; `purchased_at` is NaN for contacts without a purchase time.
    """
    journey = ~np.isnan(page_times)
    journey_pages = journey.sum(axis=1)
    earlier = np.where(journey_pages > 0, np.maximum(pageviews - journey_pages, 0), 0).astype(np.int64)
    views_row, views_minute, views_url = _earlier_views(
        rng, segment, earlier, np.maximum(sessions - journey_pages, 0), page_times[:, 0])
    opens = _spread(rng, emails["opened"], emails["first_open"], emails["last_open"])
    clicks = _spread(rng, emails["clicked"], emails["first_click"], emails["last_click"])
    buyers = np.flatnonzero(~np.isnan(purchased_at))
    parts = [  # (rows, minutes, event code), in the order ties keep
        (views_row, views_minute, PAGE_VIEW),
        (np.nonzero(journey)[0], page_times[journey], PAGE_VIEW),
        (*opens, EMAIL_OPEN),
        (*clicks, EMAIL_CLICK),
        (buyers, purchased_at[buyers], PURCHASE),
    ]
    row = np.concatenate([p[0] for p in parts])
    minute = np.concatenate([p[1] for p in parts])
    event = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in parts])
    urls = np.concatenate([views_url, page_urls[journey]])
    url = np.full(len(row), -1, dtype=np.int64)
    url[: len(urls)] = np.arange(len(urls))
    order = np.lexsort((minute, row))
    return Streams(row[order], minute[order], url[order], event[order], urls)


def events_frame(contact_id: np.ndarray, streams: Streams) -> pd.DataFrame:
    """page_events.csv's rows as typed columns: integer ids, timestamps, categorical URLs and event names."""
    codes, distinct = pd.factorize(streams.urls)
    url = np.where(streams.url >= 0, codes[np.maximum(streams.url, 0)], -1) if len(codes) else streams.url
    return pd.DataFrame({
        "contact_id": contact_id[streams.row],
        "occurred_at": np.floor(streams.minute).astype(np.int64).astype("datetime64[m]").astype("datetime64[s]"),
        "url": pd.Categorical.from_codes(url, categories=pd.Index(distinct, dtype=object)),
        "event": pd.Categorical.from_codes(streams.event.astype(np.int64) - 1, categories=list(EVENT_NAMES[1:])),
    }, columns=list(EVENT_COLUMNS))


def append_csv(frame: pd.DataFrame, handle: BinaryIO) -> None:
    """Append `frame` to an open binary file as CSV rows without a header (RFC 4180 minimal quoting, LF, NULL as an
    empty cell, timestamps `YYYY-MM-DD HH:MM:SS`), written by DuckDB into a file of its own and copied over."""
    handle.flush()
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(handle.name))) as folder:
        part = os.path.join(folder, "rows.csv")
        with duckdb.connect() as con:
            con.register("frame", frame)
            con.execute(f"copy frame to '{part}' (format csv, header false, quote '\"', escape '\"')")
        with open(part, "rb") as rows:
            size = os.fstat(rows.fileno()).st_size
            while size > 0:
                size -= os.copy_file_range(rows.fileno(), handle.fileno(), size)


def _earlier_views(
    rng: np.random.Generator, segment: np.ndarray, count: np.ndarray, sessions: np.ndarray,
    first_journey: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` page views per contact before its first journey page, oldest first (rows, minutes, URLs): the
    segment's page chain, minutes apart within a session; the contact's sessions before its journey pages
    (Number of Sessions less the journey pages, each of which ends a session) start days apart. Never before
    SESSIONS_START."""
    row = np.repeat(np.arange(len(count)), count)
    start = np.cumsum(count) - count
    step = np.arange(len(row)) - np.repeat(start, count)
    initial, transition = browsing.transition_matrices()
    init_cdf, trans_cdf = np.cumsum(initial, axis=1), np.cumsum(transition, axis=2)
    page = np.zeros(len(row), dtype=np.int64)
    first = step == 0
    page[first] = _draw(rng, init_cdf[segment[row[first]]])
    for k in range(1, int(count.max(initial=0))):
        at = np.flatnonzero(step == k)
        page[at] = _draw(rng, trans_cdf[segment[row[at]], page[at - 1]])
    # gap from each view to the next event (the next view, or the first journey page for the last one)
    new_session = rng.random(len(row)) < (sessions / np.maximum(count, 1))[row]
    gap = np.where(new_session, rng.integers(1, 31, len(row)) * 1440 + rng.integers(0, 1440, len(row)),
                   rng.integers(1, 11, len(row))).astype(float)
    total = np.bincount(row, weights=gap, minlength=len(count))
    room = np.maximum(np.nan_to_num(first_journey - SESSIONS_START), 0)
    gap *= np.where(total > room, room / np.maximum(total, 1), 1.0)[row]
    inclusive = np.cumsum(gap)
    within = inclusive - np.repeat(np.concatenate([[0.0], inclusive])[start], count)
    # minutes before the first journey page: this view's gap and every later view's
    before = np.bincount(row, weights=gap, minlength=len(count))[row] - within + gap
    minute = np.floor(first_journey[row] - before)
    return row, minute, url_templates.render_urls(rng, page)


def _spread(rng: np.random.Generator, count: np.ndarray, first: np.ndarray, last: np.ndarray,
            ) -> tuple[np.ndarray, np.ndarray]:
    """`count` events per contact (rows, minutes): one at `first`, one at `last`, the rest uniformly between."""
    count = np.nan_to_num(count).astype(np.int64)
    row = np.repeat(np.arange(len(count)), count)
    start = np.cumsum(count) - count
    step = np.arange(len(row)) - np.repeat(start, count)
    low, high = first[row], last[row]
    minute = np.floor(low + rng.random(len(row)) * (high - low))
    return row, np.where(step == 0, low, np.where(step == count[row] - 1, high, minute))


def _draw(rng: np.random.Generator, cdf_rows: np.ndarray) -> np.ndarray:
    u = rng.random(len(cdf_rows))
    return np.minimum((cdf_rows < u[:, None]).sum(axis=1), cdf_rows.shape[1] - 1)
