"""Next days of events for an existing synthetic export: `journeys synth --append-days N`.

Each appended day is the day after the newest event of page_events.csv (then the day after that, ...), and its
rows are appended to the file in arrival order (time, then contact), as a daily load would bring them; the other
files stay as they are. Every contact of the file keeps its own pace, read from its events so far (events per day
over the file's span):
- it opens (clicks) a marketing e-mail that day with probability its opens (clicks) per day, at a random minute;
- it browses with probability its page views per day over PAGES_PER_SESSION: one session of 1 to 6 pages that
  walks its planted segment's page chain (`journeys.synth.browsing.walk_sessions`), minutes apart;
- a browsing contact that has not bought yet buys with probability PURCHASE_SHARE, minutes after its last page;
- LATE_SHARE of the sessions (and their purchases) happened the evening before and arrive late, with this day's
  rows: late events that an incremental build must still put in the right session.
Days are drawn from (seed, 4, day), so the same file, seed and days give the same rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from journeys.synth import browsing, url_templates
from journeys.synth.events import (
    EMAIL_CLICK,
    EMAIL_OPEN,
    EVENT_NAMES,
    EVENTS_FILE,
    PAGE_VIEW,
    PURCHASE,
    Streams,
    append_csv,
    events_frame,
)
from journeys.synth.planted_segments import DAY, SEGMENT_NAMES
from journeys.synth.truth import read_truth

PAGES_PER_SESSION = 2.5  # mean pages of an appended session (geometric, at most MAX_SESSION_PAGES)
MAX_SESSION_PAGES = 6
PURCHASE_SHARE = 0.03
LATE_SHARE = 0.1
LATE_HOURS = 6  # a late session started in the last LATE_HOURS of the day before


def append_days(out: Path | str, days: int = 1, seed: int = 0) -> dict[str, Any]:
    """Append `days` days of events for the contacts of `out`/page_events.csv; return the appended counts."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    path = Path(out) / EVENTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: write an export with events first (journeys synth --out {out})")
    activity, first_day, last_day = _activity(path)
    truth = read_truth(out, ["segment"])
    segment = np.zeros(len(activity), dtype=np.int64)
    if truth is not None:
        index = {name: i for i, name in enumerate(SEGMENT_NAMES)}
        named = activity["contact_id"].map(truth.set_index("contact_id")["segment"].map(index))
        segment = named.fillna(0).to_numpy(np.int64)
    span = float(max(last_day - first_day + 1, 1))
    counts = dict.fromkeys(EVENT_NAMES, 0)
    appended = []
    with path.open("r+b") as handle:  # not "ab": the kernel's copy into the file needs a plain descriptor
        handle.seek(0, 2)
        for offset in range(1, days + 1):
            day = last_day + offset
            rng = np.random.default_rng(np.random.SeedSequence((seed, 4, day)))
            streams = _day_streams(rng, activity, segment, span, day)
            append_csv(events_frame(activity["contact_id"].to_numpy(np.int64), streams), handle)
            for code, n in enumerate(np.bincount(streams.event, minlength=len(EVENT_NAMES))):
                counts[EVENT_NAMES[code]] += int(n)
            appended.append(str(np.datetime64(int(day), "D")))
    return {"days": appended, "rows": sum(counts.values()), "events": counts}


def _activity(path: Path) -> tuple[pd.DataFrame, int, int]:
    """Each contact's events so far (opens, clicks, page views, whether it bought) and the file's first and last
    day (days since 1970)."""
    columns = "{'contact_id': 'VARCHAR', 'occurred_at': 'VARCHAR', 'url': 'VARCHAR', 'event': 'VARCHAR'}"
    with duckdb.connect() as con:
        con.execute(f"""
            create temp table events as
            select try_cast(contact_id as bigint) as contact_id, try_cast(occurred_at as timestamp) as occurred_at,
                url, event
            from read_csv('{str(path).replace("'", "''")}', header = true, auto_detect = false, columns = {columns},
                ignore_errors = true)
        """)
        activity = con.execute("""
            select
                contact_id,
                count(*) filter (where event = 'email_open') as opens,
                count(*) filter (where event = 'email_click') as clicks,
                count(url) as views,
                bool_or(coalesce(event = 'purchase', false)) as bought
            from events
            where contact_id is not null
            group by contact_id
            order by contact_id
        """).df()
        first, last = con.execute("""
            select date_diff('day', date '1970-01-01', min(occurred_at)::date),
                date_diff('day', date '1970-01-01', max(occurred_at)::date)
            from events
        """).fetchone()
    return activity, int(first), int(last)


def _day_streams(rng: np.random.Generator, activity: pd.DataFrame, segment: np.ndarray, span: float,
                 day: int) -> Streams:
    """One day's events of every contact (rows index `activity`), in arrival order."""
    n = len(activity)
    start = float(day) * DAY
    parts = []
    for column, code in (("opens", EMAIL_OPEN), ("clicks", EMAIL_CLICK)):
        rows = np.flatnonzero(rng.random(n) < np.minimum(activity[column].to_numpy(float) / span, 1.0))
        parts.append((rows, start + rng.integers(0, DAY, len(rows)), code))
    browsers = np.flatnonzero(
        rng.random(n) < np.minimum(activity["views"].to_numpy(float) / PAGES_PER_SESSION / span, 1.0))
    pages = np.minimum(rng.geometric(1 / PAGES_PER_SESSION, len(browsers)), MAX_SESSION_PAGES)
    late = rng.random(len(browsers)) < LATE_SHARE
    session_start = np.where(late, start - rng.integers(1, LATE_HOURS * 60, len(browsers)),
                             start + rng.integers(0, DAY - 120, len(browsers)))
    view_row = np.repeat(browsers, pages)
    first = np.cumsum(pages) - pages
    step = np.arange(len(view_row)) - np.repeat(first, pages)
    gaps = np.where(step == 0, 0, rng.integers(1, 11, len(view_row)))
    view_minute = np.repeat(session_start, pages) + (np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first], pages))
    page_type = browsing.walk_sessions(rng, segment[view_row], step)
    parts.append((view_row, view_minute, PAGE_VIEW))
    buys = ~activity["bought"].to_numpy(bool)[browsers] & (rng.random(len(browsers)) < PURCHASE_SHARE)
    last_view = view_minute[first + pages - 1]
    parts.append((browsers[buys], last_view[buys] + rng.integers(1, 6, int(buys.sum())), PURCHASE))
    row = np.concatenate([p[0] for p in parts])
    minute = np.concatenate([p[1] for p in parts]).astype(float)
    event = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in parts])
    url = np.full(len(row), -1, dtype=np.int64)
    views_at = len(parts[0][0]) + len(parts[1][0])
    url[views_at:views_at + len(view_row)] = np.arange(len(view_row))
    order = np.lexsort((activity["contact_id"].to_numpy(np.int64)[row], minute))
    return Streams(row[order], minute[order], url[order], event[order], url_templates.render_urls(rng, page_type))
