"""Hostile and degenerate variants of a small valid synthetic export, one per case.

Each variant is the clean export with one kind of damage a CSV can hold: values that parse but are not
plausible, e-mail addresses in free text, pages on other sites, broken headers, empty or degenerate
files. Value cases touch different contacts, so several are batched into one build; each case names
the contact it planted so its test can check that contact alone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from journeys.synth import write_export

EXPORT, HISTORY = "hubspot_export.csv", "pageview_hist.csv"


@dataclass(frozen=True)
class ValueCase:
    """A raw value planted in one contact's record and what staging must make of it."""

    name: str
    file: str
    header: str
    raw: str
    column: str  # staged column
    reason: str | None  # expected reason code in invalid_fields (None: the value is kept)


# Values a CSV can hold that once crashed the build or passed silently.
VALUE_CASES = (
    ValueCase(
        "company_id_nan", EXPORT, "Associated Company ID", "NaN", "associated_company_id", "not_finite"
    ),
    ValueCase(
        "company_id_inf", EXPORT, "Associated Company ID", "inf", "associated_company_id", "not_finite"
    ),
    ValueCase(
        "company_id_1e19", EXPORT, "Associated Company ID", "1e19", "associated_company_id", "out_of_range"
    ),
    ValueCase(
        "company_id_1e400", EXPORT, "Associated Company ID", "1e400", "associated_company_id", "not_finite"
    ),
    ValueCase("avg_pageviews_nan", EXPORT, "Average Pageviews", "NaN", "avg_pageviews", "not_finite"),
    ValueCase("avg_pageviews_inf", EXPORT, "Average Pageviews", "inf", "avg_pageviews", "not_finite"),
    ValueCase("sessions_fraction", EXPORT, "Number of Sessions", "3.7", "num_sessions", "not_integer"),
    ValueCase("sessions_negative", EXPORT, "Number of Sessions", "-2", "num_sessions", "out_of_range"),
    ValueCase(
        "sessions_beyond_integer", EXPORT, "Number of Sessions", "1e12", "num_sessions", "out_of_range"
    ),
    ValueCase(
        "date_year_0001",
        EXPORT,
        "Became a Lead Date",
        "0001-01-01 00:00:00",
        "became_lead_at",
        "out_of_window",
    ),
    ValueCase(
        "date_year_1900",
        EXPORT,
        "Became a Lead Date",
        "1900-01-01 00:00:00",
        "became_lead_at",
        "out_of_window",
    ),
    ValueCase(
        "date_year_2999",
        EXPORT,
        "Became a Lead Date",
        "2999-01-01 00:00:00",
        "became_lead_at",
        "out_of_window",
    ),
    ValueCase(
        "date_year_99999",
        EXPORT,
        "Became a Lead Date",
        "99999-01-01 00:00:00",
        "became_lead_at",
        "out_of_window",
    ),
    ValueCase(
        "history_date_2999",
        HISTORY,
        "Last Page Seen Change Date",
        "2999-01-01 00:00",
        "changed_at",
        "out_of_window",
    ),
    ValueCase(
        "date_with_offset",
        EXPORT,
        "Became a Subscriber Date",
        "2020-06-01 10:00:00+05:30",
        "became_subscriber_at",
        None,
    ),
)
# The offset case's value in UTC.
OFFSET_UTC = "2020-06-01 04:30:00"

# Addresses typed into free-text properties, written the ways the old pattern missed.
EMAIL_CASES = (
    ("Job Title or Function", "job_title", "jane.doe@example.com"),
    ("Last Registered Event", "last_event", "root@localhost"),
    ("Highest level of completed education", "education", "user@[10.0.0.1]"),
    ("Last marketing email name", "last_email_name", "news for ann%2540example.com"),
    ("Job Title or Function", "job_title", "josé.núñez@exämple.com (CTO)"),
)

# Pages on other sites: categorised `other` whatever their path says.
OTHER_SITE_URLS = (
    "https://bücher.example/ai-for-everyone/",
    "https://xn--bcher-kva.example/ai-for-everyone/",
    "http://[2001:db8::1]:8080/courses/",
    "https://thebatch.example.org/thebatch/issue-1/",
)

# Header damage the batch build resolves (with a one-line warning naming it).
PADDED_HEADER = "Job Title or Function"
REPEATED_EXTRA_HEADER = "Internal notes"


def clean_export(out: Path, n_contacts: int = 300, seed: int = 17) -> Path:
    """The valid export every variant starts from: small, no planted dirt."""
    write_export(out, n_contacts=n_contacts, seed=seed, dirt=False)
    return out


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def write_table(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def value_batch(source: Path, out: Path) -> dict[str, int]:
    """Every value, e-mail and other-site case planted in its own contact, the header padded and an
    extra column repeated. Returns case name -> contact id (history cases: contacts with a history row)."""
    out.mkdir(parents=True, exist_ok=True)
    header, rows = read_table(source / EXPORT)
    history_header, history_rows = read_table(source / HISTORY)
    current = history_header.index("Last Page Seen Current Value")
    with_history = [int(row[0]) for row in history_rows if row[current]]  # a current page: a staged version
    row_of = {int(row[0]): row for row in rows}
    history_row_of = {int(row[0]): row for row in history_rows}
    planted: dict[str, int] = {}

    history_ids, export_ids = iter(with_history), iter(int(row[0]) for row in rows)
    for case in VALUE_CASES:
        if case.file == HISTORY:
            contact = next(history_ids)
            history_row_of[contact][history_header.index(case.header)] = case.raw
        else:
            contact = next(export_ids)
            row_of[contact][header.index(case.header)] = case.raw
        planted[case.name] = contact
    for number, (column_header, _, text) in enumerate(EMAIL_CASES):
        contact = next(export_ids)
        row_of[contact][header.index(column_header)] = text
        planted[f"email_{number}"] = contact
    for number, url in enumerate(OTHER_SITE_URLS):
        contact = next(history_ids)
        history_row_of[contact][history_header.index("Last Page Seen Current Value")] = url
        planted[f"other_site_{number}"] = contact

    padded = [name + "\t" if name == PADDED_HEADER else name for name in header]
    padded += [REPEATED_EXTRA_HEADER, REPEATED_EXTRA_HEADER]
    write_table(out / EXPORT, padded, [row + ["a", "b"] for row in rows])
    write_table(out / HISTORY, history_header, history_rows)
    return planted


HUGE_FIELD_BYTES = 5 * 1024 * 1024  # past the reader's default limit of 2,000,000 bytes per record


def huge_field(source: Path, out: Path) -> int:
    """The export with a 5 MB `Job Title or Function` in one contact's record; returns that contact."""
    out.mkdir(parents=True, exist_ok=True)
    header, rows = read_table(source / EXPORT)
    rows[10][header.index("Job Title or Function")] = "x" * HUGE_FIELD_BYTES
    write_table(out / EXPORT, header, rows)
    (out / HISTORY).write_bytes((source / HISTORY).read_bytes())
    return int(rows[10][0])


def empty_file(source: Path, out: Path, name: str) -> None:
    """`name` written as 0 bytes, the other file as it was."""
    out.mkdir(parents=True, exist_ok=True)
    for file in (EXPORT, HISTORY):
        (out / file).write_bytes(b"" if file == name else (source / file).read_bytes())


def header_only(source: Path, out: Path, name: str) -> None:
    """`name` with its header and no record, the other file as it was (0 contacts, or no history)."""
    out.mkdir(parents=True, exist_ok=True)
    for file in (EXPORT, HISTORY):
        header, rows = read_table(source / file)
        write_table(out / file, header, [] if file == name else rows)


def repeated_required_header(source: Path, out: Path, name: str = "Number of Sessions") -> None:
    """The export with a second column also headed `name`."""
    out.mkdir(parents=True, exist_ok=True)
    header, rows = read_table(source / EXPORT)
    write_table(out / EXPORT, [*header, name], [[*row, "7"] for row in rows])
    (out / HISTORY).write_bytes((source / HISTORY).read_bytes())


def first_contacts(source: Path, out: Path, n: int) -> None:
    """Only the first `n` contacts and their history rows."""
    out.mkdir(parents=True, exist_ok=True)
    header, rows = read_table(source / EXPORT)
    kept = rows[:n]
    ids = {row[0] for row in kept}
    write_table(out / EXPORT, header, kept)
    history_header, history_rows = read_table(source / HISTORY)
    write_table(out / HISTORY, history_header, [row for row in history_rows if row[0] in ids])


def identical_contacts(source: Path, out: Path) -> None:
    """Every contact a copy of the first one (ids kept distinct), with no page history."""
    out.mkdir(parents=True, exist_ok=True)
    header, rows = read_table(source / EXPORT)
    write_table(out / EXPORT, header, [[row[0], *rows[0][1:]] for row in rows])
    history_header, _ = read_table(source / HISTORY)
    write_table(out / HISTORY, history_header, [])


def no_buyers(source: Path, out: Path) -> None:
    """The courses field emptied for every contact: nobody bought."""
    out.mkdir(parents=True, exist_ok=True)
    header, rows = read_table(source / EXPORT)
    courses = next(i for i, name in enumerate(header) if name.startswith("Which of the following"))
    for row in rows:
        row[courses] = ""
    write_table(out / EXPORT, header, rows)
    (out / HISTORY).write_bytes((source / HISTORY).read_bytes())


def one_contact_with_history(source: Path, out: Path) -> None:
    """Every contact kept, but a single one keeps its page history (a row with a current page)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / EXPORT).write_bytes((source / EXPORT).read_bytes())
    history_header, history_rows = read_table(source / HISTORY)
    current = history_header.index("Last Page Seen Current Value")
    write_table(out / HISTORY, history_header, [next(row for row in history_rows if row[current])])
