"""Python twin of the SQL URL normalisation macro (macros/normalize_url.sql) and of `is_site_url`.

The service normalises page URLs itself, so it must give every URL the form the warehouse gives it: the
normalisation repeats the macro step by step (a parity test runs every URL of the synthetic export through
both).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from urllib.parse import unquote

import numpy as np
import pandas as pd

from journeys.urls.redaction import redact_emails


def is_site_url(normalized: pd.Series, hosts: tuple[str, ...]) -> np.ndarray:
    """Macro `is_site_url`: the normalised URL's host, without `:port`, is one of `hosts` or a subdomain of
    one. False for NULL and for every other host (IDN, punycode, IP literals, look-alikes)."""
    host = _extract(normalized.astype("string"), r"^([^/?]*)").str.replace(r":[0-9]*\Z", "", regex=True)
    on_site = host.isin(hosts) | host.str.endswith(tuple("." + name for name in hosts))
    return on_site.to_numpy(dtype=bool, na_value=False)


# Regexes of macros/normalize_url.sql. DuckDB runs RE2, whose `$` (without the m flag) is the end of
# the text: Python's equivalent is `\Z`, which is the only change made to them. EMAIL_REGEX (macro
# email_regex) lives in journeys.urls.redaction, shared with the service's free text.
TRANSLATE_PROXY_REGEX = r"^(https?://)?translate\.googleusercontent\.com/[^#]*[?&]u=[^&#]"


def normalize_urls(raw: pd.Series, query_allowlist: Sequence[str]) -> pd.Series:
    """Normalise raw URLs exactly as the `normalize_url` macro does; NA where the SQL gives NULL.
    `query_allowlist`: the query parameters kept (var `journeys_url_query_allowlist`, lower-case names)."""
    allowlist = tuple(str(name).lower() for name in query_allowlist)
    with warnings.catch_warnings():  # the macro's groups are for alternation, not extraction
        warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
        return _normalize(raw.astype("string"), allowlist)


def _percent_decode(value: str) -> str:
    """`unquote`, but a value whose bytes are not valid UTF-8 is kept as it is, like the SQL macro."""
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        return value


def _normalize(raw: pd.Series, allowlist: tuple[str, ...]) -> pd.Series:
    lowered = raw.str.strip(" ").mask(lambda s: s.str.strip(" ") == "").str.lower()
    # 1. unwrap translate-proxy URLs: the page's own URL is the `u` query parameter (DuckDB's url_decode
    #    keeps `+` and invalid escapes; a value that does not decode to UTF-8 stays encoded)
    proxied = lowered.str.contains(TRANSLATE_PROXY_REGEX, regex=True).fillna(False).astype(bool)
    unwrapped = lowered.copy()
    inner = lowered[proxied].str.extract(r"[?&]u=([^&#]*)", expand=False).fillna("")
    unwrapped[proxied] = inner.map(_percent_decode).astype("string")
    # 2. drop the fragment and the scheme
    without_scheme = unwrapped.str.replace(r"#.*\Z", "", regex=True)
    without_scheme = without_scheme.str.replace(r"^([a-z][a-z0-9+.-]*:)?//", "", regex=True)
    # 3. host without `www.`; path without trailing slashes (root stays `/`)
    host = _extract(without_scheme, r"^([^/?]*)").str.replace(r"^www\.", "", regex=True)
    path = _extract(without_scheme, r"^[^/?]*([^?]*)").str.replace(r"/+\Z", "", regex=True)
    path = path.mask(path == "", "/")
    # 4. query: only the allow-listed parameters, in their order, each piece wrapped as `&piece&`
    if allowlist:
        allowed = "|".join(re.escape(name) for name in allowlist)
        query = "&" + _extract(without_scheme, r"^[^?]*\?(.*)\Z").str.replace("&", "&&", regex=False) + "&"
        query = query.str.findall(rf"&(({allowed})(=[^&]*)?)&").map(
            lambda pieces: "&".join(piece[0] for piece in pieces), na_action="ignore"
        ).astype("string")
    else:
        query = pd.Series("", index=without_scheme.index, dtype="string").mask(without_scheme.isna())
    # 5. reassemble, then redact e-mail addresses
    assembled = host + path + ("?" + query).mask(query == "", "")
    return redact_emails(assembled)


def _extract(values: pd.Series, pattern: str) -> pd.Series:
    """DuckDB's regexp_extract: group 1 of the first match, '' when nothing matches (NULL stays NULL)."""
    extracted = values.str.extract(pattern, expand=False).astype("string")
    return extracted.mask(extracted.isna() & values.notna(), "")
