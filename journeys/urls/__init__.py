"""URL handling: normalisation, the category rules, their checks, e-mail redaction and the analyst's rule loop.

Python twins of the SQL layer's URL macros and seed matching, used by the scoring service (one module each:
`normalize`, `categorize`, `rules`, `redaction`) and `make categories` (`categories`).
"""

from journeys.urls.categorize import UNMATCHED_CATEGORY, UrlCategorizer
from journeys.urls.normalize import is_site_url, normalize_urls

__all__ = ["UNMATCHED_CATEGORY", "UrlCategorizer", "is_site_url", "normalize_urls"]
