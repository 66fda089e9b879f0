"""Format the simulated population as the spec's files, add dirt, write them and summarise.

Files (see docs and ../shared/spec/hubspot-export.md): `hubspot_export.csv` (34 columns, one row per
contact), `pageview_hist.csv` (9 columns, most recent page first, the ninth header literally `...`) and
`truth.csv` (`contact_id, segment, buy_probability, buy_probability_shuffled, is_buyer, purchased_at`, the
purchase minute formatted like the export's dates, empty for non-buyers), which the pipeline never reads,
and `page_events.csv` (every contact's event stream, `journeys.synth.events`; switch `page_events`).
Contacts are simulated and written in chunks, so a 3.4-million-contact export needs no more memory than a
small one.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import reduce
from multiprocessing import get_context
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np
import pandas as pd

from journeys.synth import browsing, catalog, events
from journeys.synth.contacts import Population, chunk_ids_after, simulate
from journeys.synth.dirt import DirtRates, broken_rows, dirty_export, dirty_history, dirty_urls
from journeys.synth.planted_segments import SEGMENT_NAMES
from journeys.synth.truth import TRUTH_FILE

EXPORT_FILE, HISTORY_FILE = "hubspot_export.csv", "pageview_hist.csv"
CHUNK_CONTACTS = 200_000
"""Contacts simulated, dirtied and written at a time: memory stays flat whatever the export's size."""
WORKERS = 2
"""Processes writing chunks at once: two halve the time on two cores, each holding one chunk (about 0.6 GB)."""
EXPORT_COLUMNS: tuple[str, ...] = (
    "Contact ID",
    "Became a Lead Date",
    "Became a Subscriber Date",
    "Became an Opportunity Date",
    "First Conversion Date",
    "First marketing email click date",
    "First marketing email open date",
    "First marketing email send date",
    "Last Activity Date",
    "Last marketing email click date",
    "Last marketing email name",
    "Last marketing email open date",
    "Last marketing email send date",
    "Average Pageviews",
    "First Page Seen",
    "Last Page Seen",
    "Number of Pageviews",
    "Number of Sessions",
    "Marketing emails opened",
    "Marketing emails delivered",
    "Marketing emails clicked",
    "Opted out of email: Events and Community",
    "Opted out of email: Program Announcements",
    "Opted out of email: The Batch",
    "Unsubscribed from all email",
    "Which of the following online courses have you taken from deeplearning.ai?",
    "Last Registered Event",
    "Last Registered Event Date",
    "Number of event completions",
    "Highest level of completed education",
    "Job Title or Function",
    "IP Country",
    "IP Country Code",
    "Associated Company ID",
)
HISTORY_COLUMNS: tuple[str, ...] = (
    "Contact ID",
    "Email",
    "Last Page Seen Current Value",
    "Last Page Seen Change Date",
    "Last Page Seen Previous Value (1)",
    "Last Page Seen Change Date (1)",
    "Last Page Seen Previous Value (2)",
    "Last Page Seen Change Date (2)",
    "...",
)
TRUTH_COLUMNS: tuple[str, ...] = (
    "contact_id", "segment", "buy_probability", "buy_probability_shuffled", "is_buyer", "purchased_at"
)


_CLOCK = np.array([f" {h:02d}:{m:02d}" for h in range(24) for m in range(60)], dtype=object)
_CLOCK_SECONDS = _CLOCK + ":00"


def format_minutes(minutes: np.ndarray, seconds: bool) -> np.ndarray:
    """`2021-01-04 10:59:00` (export) or `2020-09-30 17:17` (history) per float minute; None for NaN.

    Each distinct day is formatted once and joined to one of the 1,440 clock times: string work per day,
    not per value.
    """
    missing = np.isnan(minutes)
    day, minute = np.divmod(np.where(missing, 0, minutes).astype(np.int64), 1440)
    first = int(day.min()) if len(day) else 0
    days = np.arange(first, int(day.max()) + 1 if len(day) else first)
    day_text = np.datetime_as_string(days.astype("datetime64[D]")).astype(object)
    text = day_text[day - first] + (_CLOCK_SECONDS if seconds else _CLOCK)[minute]
    return np.where(missing, None, text)


def _count(values: np.ndarray, empty_when_zero: bool) -> np.ndarray:
    text = values.astype(np.int64).astype(str).astype(object)
    return np.where(values == 0, None, text) if empty_when_zero else text


def _flag(mask: np.ndarray, word: str) -> np.ndarray:
    return np.where(mask, word, None).astype(object)


def journey_ends(
    pop: Population, page_urls: np.ndarray, entry_urls: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First Page Seen and Last Page Seen of every contact from its (possibly dirtied) journey URLs."""
    n = len(pop.contact_id)
    length = np.minimum(pop.sessions, browsing.MAX_PAGES)
    last = np.where(pop.sessions > 0, page_urls[np.arange(n), np.maximum(length - 1, 0)], None)
    first = np.where(pop.sessions > browsing.MAX_PAGES, entry_urls, page_urls[:, 0])
    first = np.where((pop.sessions > 0) & ~pop.first_page_missing, first, None)
    return first, last


def export_table(pop: Population, page_urls: np.ndarray, entry_urls: np.ndarray) -> pd.DataFrame:
    """hubspot_export.csv as object columns (None = empty cell), one row per contact."""
    n = len(pop.contact_id)
    e, life, prof = pop.emails, pop.lifecycle, pop.profile
    first_page, last_page = journey_ends(pop, page_urls, entry_urls)
    country = pop.country
    company = prof["company"]
    company_text = np.where(np.isnan(company), None, np.char.mod("%e", np.nan_to_num(company)).astype(object))
    empty = np.full(n, None, dtype=object)
    columns: dict[str, np.ndarray] = {
        "Contact ID": pop.contact_id.astype(str).astype(object),
        "Became a Lead Date": format_minutes(life["lead"], True),
        "Became a Subscriber Date": format_minutes(life["subscriber"], True),
        "Became an Opportunity Date": empty,
        "First Conversion Date": format_minutes(life["first_conversion"], True),
        "First marketing email click date": format_minutes(e["first_click"], True),
        "First marketing email open date": format_minutes(e["first_open"], True),
        "First marketing email send date": format_minutes(e["first_send"], True),
        "Last Activity Date": format_minutes(pop.last_activity, True),
        "Last marketing email click date": format_minutes(e["last_click"], True),
        "Last marketing email name": e["last_name"].astype(object),
        "Last marketing email open date": format_minutes(e["last_open"], True),
        "Last marketing email send date": format_minutes(e["last_send"], True),
        "Average Pageviews": _count(pop.average_pageviews, False),
        "First Page Seen": first_page,
        "Last Page Seen": last_page,
        "Number of Pageviews": _count(pop.pageviews, False),
        "Number of Sessions": _count(pop.sessions, False),
        "Marketing emails opened": _count(e["opened"], True),
        "Marketing emails delivered": _count(e["delivered"], True),
        "Marketing emails clicked": _count(e["clicked"], True),
        "Opted out of email: Events and Community": _flag(e["opt_out_events"], "Yes"),
        "Opted out of email: Program Announcements": _flag(e["opt_out_announcements"], "Yes"),
        "Opted out of email: The Batch": _flag(e["opt_out_batch"], "Yes"),
        "Unsubscribed from all email": _flag(e["unsubscribed"], "True"),
        "Which of the following online courses have you taken from deeplearning.ai?": pop.courses,
        "Last Registered Event": prof["event"],
        "Last Registered Event Date": format_minutes(prof["event_at"], True),
        "Number of event completions": np.full(n, "0", dtype=object),
        "Highest level of completed education": prof["education"],
        "Job Title or Function": prof["job_title"],
        "IP Country": np.where(country >= 0, catalog.COUNTRY_NAMES[np.maximum(country, 0)], None),
        "IP Country Code": np.where(country >= 0, catalog.COUNTRY_CODES[np.maximum(country, 0)], None),
        "Associated Company ID": company_text,
    }
    return pd.DataFrame({name: columns[name] for name in EXPORT_COLUMNS}, dtype=object)


def history_table(pop: Population, page_urls: np.ndarray) -> pd.DataFrame:
    """pageview_hist.csv: one row per contact in the history file, most recent page first."""
    rows = np.flatnonzero(pop.in_history_file)
    recorded = pop.recorded_pages[rows] >= 0
    length = recorded.sum(axis=1)
    urls, times = page_urls[rows], pop.page_times[rows]
    slots_url, slots_time = [], []
    for slot in range(browsing.MAX_PAGES):
        # Slot 0 is the newest page, chronological index length - 1.
        chrono = length - 1 - slot
        valid = chrono >= 0
        pick = np.maximum(chrono, 0)
        slots_url.append(np.where(valid, urls[np.arange(len(rows)), pick], None))
        slots_time.append(format_minutes(np.where(valid, times[np.arange(len(rows)), pick], np.nan), False))
    columns = {
        "Contact ID": pop.contact_id[rows].astype(str).astype(object),
        "Email": pop.email_address[rows],
        "Last Page Seen Current Value": slots_url[0],
        "Last Page Seen Change Date": slots_time[0],
        "Last Page Seen Previous Value (1)": slots_url[1],
        "Last Page Seen Change Date (1)": slots_time[1],
        "Last Page Seen Previous Value (2)": slots_url[2],
        "Last Page Seen Change Date (2)": slots_time[2],
        "...": slots_url[3],
    }
    return pd.DataFrame({name: columns[name] for name in HISTORY_COLUMNS}, dtype=object)


def truth_table(pop: Population) -> pd.DataFrame:
    """Planted truth per real contact: segment, buy probability (also with its pages shuffled), buyer flag,
    purchase time."""
    return pd.DataFrame(
        {
            "contact_id": pop.contact_id,
            "segment": np.array(SEGMENT_NAMES, dtype=object)[pop.segment],
            "buy_probability": np.round(pop.buy_probability, 6),
            "buy_probability_shuffled": np.round(pop.buy_probability_shuffled, 6),
            "is_buyer": pop.is_buyer,
            "purchased_at": format_minutes(pop.purchased_at, True),
        }
    )


def _write_csv(
    table: pd.DataFrame, handle: TextIO, header: bool, broken: np.ndarray, rng: np.random.Generator
) -> None:
    """Append RFC-4180 CSV (minimal quoting, LF, None empty); rows listed in `broken` are cut after a random
    field. The columns go straight to `csv.writer` (the bytes of `DataFrame.to_csv`, a fifth faster)."""
    writer = csv.writer(handle, lineterminator="\n")
    if header:
        writer.writerow(table.columns)
    columns = [table[name].to_numpy(dtype=object, na_value=None) for name in table.columns]
    start = 0
    for row in broken.tolist():
        writer.writerows(zip(*(column[start:row] for column in columns), strict=True))
        keep = int(rng.integers(3, len(columns) - 3))
        writer.writerow([column[row] for column in columns[:keep]])
        start = row + 1
    writer.writerows(zip(*(column[start:] for column in columns), strict=True))


def dirty_contacts(
    pop: Population, rng: np.random.Generator, rates: DirtRates
) -> tuple[np.ndarray, pd.DataFrame, dict[str, int]]:
    """The chunk's journey URLs with URL dirt and hubspot_export.csv's table with cell dirt and duplicates (the
    first draws of the chunk's dirt stream), and the dirt counts: what every shape of the export holds."""
    urls_and_entry = np.concatenate([pop.page_urls, pop.entry_page_url[:, None]], axis=1)
    dirty, url_counts = dirty_urls(rng, urls_and_entry, rates)
    page_urls, entry_urls = dirty[:, : browsing.MAX_PAGES], dirty[:, browsing.MAX_PAGES]
    export, export_counts = dirty_export(rng, export_table(pop, page_urls, entry_urls), rates)
    return page_urls, export, {**url_counts, **export_counts}


def simulated_chunks(n_contacts: int, seed: int, chunk_contacts: int) -> Iterator[tuple[int, Population]]:
    """The export's contacts, `chunk_contacts` at a time: chunk i drawn from (seed, i), ids continuing the
    previous chunk's."""
    sizes = chunk_sizes(n_contacts, chunk_contacts)
    for chunk, (size, after) in enumerate(zip(sizes, chunk_ids_after(sizes, seed), strict=True)):
        yield chunk, simulate(size, (seed, chunk), after)


def chunk_sizes(n_contacts: int, chunk_contacts: int) -> list[int]:
    """The contacts of each chunk of an export."""
    if n_contacts < 1:
        raise ValueError(f"n_contacts must be at least 1, got {n_contacts}")
    if chunk_contacts < 1:
        raise ValueError(f"chunk_contacts must be at least 1, got {chunk_contacts}")
    return [min(chunk_contacts, n_contacts - first) for first in range(0, n_contacts, chunk_contacts)]


def dirt_stream(seed: int, chunk: int) -> np.random.Generator:
    """The random stream of a chunk's dirt (dirty_contacts draws first from it)."""
    return np.random.default_rng(np.random.SeedSequence((seed, 2, chunk)))


def dirt_rates(dirt: bool | DirtRates) -> DirtRates:
    """True: the documented default rates; False: a clean export; or the rates given."""
    return DirtRates() if dirt is True else DirtRates.off() if dirt is False else dirt


def _write_chunk(
    pop: Population,
    rng: np.random.Generator,
    rates: DirtRates,
    files: dict[str, Any],
    header: bool,
    events_rng: np.random.Generator,
) -> dict[str, Any]:
    """Dirty, format and append one chunk of contacts to the files; return its counts."""
    page_urls, export, dirt_counts = dirty_contacts(pop, rng, rates)
    counts = _write_contacts(pop, rng, rates, files, header, page_urls, export, dirt_counts)
    # after the contact files, whose tables are gone by now: a chunk holds one kind of table at a time
    counts["events"] = (
        _write_events(pop, page_urls, events_rng, files[events.EVENTS_FILE], header)
        if events.EVENTS_FILE in files
        else {}
    )
    return counts


def _write_contacts(
    pop: Population,
    rng: np.random.Generator,
    rates: DirtRates,
    files: dict[str, Any],
    header: bool,
    page_urls: np.ndarray,
    export: pd.DataFrame,
    dirt_counts: dict[str, int],
) -> dict[str, Any]:
    """Append the chunk's rows of hubspot_export.csv, pageview_hist.csv and truth.csv; return their counts."""
    history = history_table(pop, page_urls)
    history_counts = dirty_history(rng, history, rates)
    broken = broken_rows(rng, len(export), rates)

    _write_csv(export, files[EXPORT_FILE], header, broken, rng)
    _write_csv(history, files[HISTORY_FILE], header, np.zeros(0, dtype=np.int64), rng)
    truth_table(pop).to_csv(files[TRUTH_FILE], header=header, index=False, lineterminator="\n")

    recorded = (pop.recorded_pages >= 0).sum(axis=1)
    dirt_counts = {**dirt_counts, "broken_line": len(broken)}
    dirt_counts["malformed_timestamp"] += history_counts["malformed_timestamp"]
    return {
        "export_rows": len(export),
        "history_rows": len(history),
        "slot_fills": {
            name: int((recorded > k).sum())
            for k, name in enumerate(("current", "previous_1", "previous_2", "previous_3"))
        },
        "buyers": int(pop.is_buyer.sum()),
        "buyers_with_history": int(pop.is_buyer[recorded > 0].sum()),
        "contacts_with_history": int((recorded > 0).sum()),
        "segments": {name: int((pop.segment == s).sum()) for s, name in enumerate(SEGMENT_NAMES)},
        "dirt": dirt_counts,
    }


def _write_events(
    pop: Population, page_urls: np.ndarray, rng: np.random.Generator, handle: BinaryIO, header: bool
) -> dict[str, int]:
    """Append the chunk's event streams (journeys.synth.events), journey pages with the (dirtied) URLs
    pageview_hist.csv shows; return the rows per event kind."""
    streams = events.event_streams(
        rng, pop.segment, pop.sessions, pop.pageviews, pop.page_times, page_urls, pop.emails, pop.purchased_at
    )
    if header:
        handle.write((",".join(events.EVENT_COLUMNS) + "\n").encode())
    events.append_csv(events.events_frame(pop.contact_id, streams), handle)
    kinds = np.bincount(streams.event, minlength=len(events.EVENT_NAMES))
    return {"rows": len(streams.row), **{name: int(n) for name, n in zip(events.EVENT_NAMES, kinds, strict=True)}}


def _add(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Sum two count dicts of the same shape (nested dicts summed key by key)."""
    return {k: _add(v, part[k]) if isinstance(v, dict) else v + part[k] for k, v in total.items()}


@dataclass(frozen=True)
class _Chunk:
    """One chunk of an export: its index, contacts, the id its ids continue from, and where its files go."""

    index: int
    contacts: int
    ids_after: int
    seed: int
    rates: DirtRates
    page_events: bool
    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / f"{self.index:06d}.{name}"


def _write_chunk_files(chunk: _Chunk) -> dict[str, Any]:
    """Simulate one chunk and write its part of every file into files of its own; return its counts."""
    # SeedSequence pads entropy with zeros: chunk 0 draws from `seed` and (seed, 2) as an unchunked export
    # did, so exports of one chunk keep their bytes.
    pop = simulate(chunk.contacts, (chunk.seed, chunk.index), chunk.ids_after)
    rng = dirt_stream(chunk.seed, chunk.index)
    # events draw from their own stream: the other files' bytes do not depend on them
    events_rng = np.random.default_rng(np.random.SeedSequence((chunk.seed, 3, chunk.index)))
    with ExitStack() as stack:
        files: dict[str, Any] = {
            name: stack.enter_context(chunk.path(name).open("w", encoding="utf-8", newline=""))
            for name in (EXPORT_FILE, HISTORY_FILE, TRUTH_FILE)
        }
        if chunk.page_events:
            files[events.EVENTS_FILE] = stack.enter_context(chunk.path(events.EVENTS_FILE).open("wb"))
        return _write_chunk(pop, rng, rates=chunk.rates, files=files, header=chunk.index == 0,
                            events_rng=events_rng)


def _chunks_written(chunks: list[_Chunk], workers: int, stack: ExitStack) -> Iterator[dict[str, Any]]:
    """Write every chunk's files and yield their counts in chunk order. With `workers` > 1, this process writes
    every `workers`-th chunk itself and `workers` - 1 child processes the others at the same time (started
    afresh, not forked: a forked child soon copies the parent's pages anyway)."""
    if workers < 2 or len(chunks) < 2:
        yield from map(_write_chunk_files, chunks)
        return
    pool = stack.enter_context(ProcessPoolExecutor(workers - 1, mp_context=get_context("spawn")))
    children = {c.index: pool.submit(_write_chunk_files, c) for c in chunks if c.index % workers}
    for chunk in chunks:
        yield children[chunk.index].result() if chunk.index in children else _write_chunk_files(chunk)


def _append_file(part: Path, handle: BinaryIO) -> None:
    """Append a part file's bytes to an open file (copied by the kernel), then delete the part."""
    with part.open("rb") as source:
        size = os.fstat(source.fileno()).st_size
        while size > 0:
            size -= os.copy_file_range(source.fileno(), handle.fileno(), size)
    part.unlink()


def write_export(
    out: Path | str,
    n_contacts: int = 336_955,
    seed: int = 0,
    dirt: bool | DirtRates = True,
    chunk_contacts: int = CHUNK_CONTACTS,
    page_events: bool = False,
    workers: int = WORKERS,
) -> dict[str, Any]:
    """Write hubspot_export.csv, pageview_hist.csv, truth.csv and, with `page_events`, page_events.csv (every
    contact's event stream, journeys.synth.events) to `out`; return a summary dict.

    `dirt` is True (documented default rates), False (clean export) or a DirtRates. Contacts are simulated
    and written `chunk_contacts` at a time, chunk i drawn from (seed, i) with ids continuing the previous
    chunk's, so the same arguments give the same bytes and peak memory does not grow with `n_contacts`;
    up to `workers` processes write chunks at once (files of their own, appended in chunk order), with the
    same bytes as one. Dirt is drawn per chunk (a duplicate lands after its original within its chunk). The
    summary holds counts only, never an email or a URL.
    """
    sizes = chunk_sizes(n_contacts, chunk_contacts)
    rates = dirt_rates(dirt)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = (EXPORT_FILE, HISTORY_FILE, TRUTH_FILE) + ((events.EVENTS_FILE,) if page_events else ())
    with tempfile.TemporaryDirectory(dir=out, prefix=".synth-chunks-") as folder, ExitStack() as stack:
        chunks = [_Chunk(index, size, after, seed, rates, page_events, Path(folder))
                  for index, (size, after) in enumerate(zip(sizes, chunk_ids_after(sizes, seed), strict=True))]
        files = {name: stack.enter_context((out / name).open("wb")) for name in names}
        parts: list[dict[str, Any]] = []
        for chunk, counts in zip(chunks, _chunks_written(chunks, workers, stack), strict=True):
            for name in names:
                _append_file(chunk.path(name), files[name])
            parts.append(counts)
    totals = reduce(_add, parts)
    with_history = totals["contacts_with_history"]
    return {
        "contacts": n_contacts,
        "seed": seed,
        "export_rows": totals["export_rows"],
        "history_rows": totals["history_rows"],
        "slot_fills": totals["slot_fills"],
        "buyers": totals["buyers"],
        "buyer_rate": totals["buyers"] / n_contacts,
        "buyer_rate_with_history": totals["buyers_with_history"] / with_history
        if with_history
        else float("nan"),
        "contacts_with_history": with_history,
        "segments": totals["segments"],
        "dirt": totals["dirt"],
        "events": totals["events"],
    }
