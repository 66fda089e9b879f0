"""Python twin of the SQL redaction macros (`email_regex`, `redact_emails` in macros/normalize_url.sql).

Free text and URLs leave the warehouse's base layer only through `redact_emails`; the service runs the
same pattern over the text it receives, so no e-mail address reaches a score, a log line or a table.
DuckDB runs RE2, whose `$` is Python's `\\Z`; the pattern below has no anchors, so it is the macro's as is.
"""

from __future__ import annotations

import re

import pandas as pd

# A local part of non-separator characters (any script), `@` plain or percent-encoded once or more
# (`%40`, `%2540`), and a domain: an address literal `[...]`, `localhost`, or dotted labels.
_TOKEN = r'[^\t\n\r @,;:<>()\[\]"/?&#='
EMAIL_REGEX = (
    _TOKEN
    + r"]+(@|%(25)*40)(\[[^\]\t\n\r ]*\]|localhost|"
    + _TOKEN
    + r".]+(\."
    + _TOKEN
    + r".]+)*\."
    + _TOKEN
    + r".0-9_%-]{2,})"
)
REDACTED = "redacted-email"


def redact_emails(values: pd.Series) -> pd.Series:
    """Every address-like token replaced by `redacted-email`; missing values stay missing."""
    return values.astype("string").str.replace(EMAIL_REGEX, REDACTED, regex=True)


_EMAIL = re.compile(EMAIL_REGEX)


def redact_text(value: str | None) -> str | None:
    """`redact_emails` for one value, without pandas (the service's per-request path)."""
    return None if value is None else _EMAIL.sub(REDACTED, value)
