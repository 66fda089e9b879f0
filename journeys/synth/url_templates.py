"""Render page types as realistic URLs: the spec's hosts and paths, slugs, tracking parameters, variants.

URL_TEMPLATES is the readable list an analyst needs to write the category seed: per page type, the
(weight, template) pairs, where `{slug}` is filled from SLUGS[page type]. On top of the template a URL may
get tracking parameters, lose its trailing slash, change case, use http or the bare host, or be wrapped
in Google's translate proxy (`...translate_c?...&u=<the real URL>`); the page type never changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeys.synth import catalog

URL_TEMPLATES: dict[str, tuple[tuple[float, str], ...]] = {
    "events": (
        (4, "https://www.deeplearning.ai/events/"),
        (3, "https://www.deeplearning.ai/events/{slug}/"),
    ),
    "blog": (
        (3, "https://blog.deeplearning.ai/blog/{slug}"),
        (3, "https://www.deeplearning.ai/blog/{slug}/"),
        (1, "https://www.deeplearning.ai/blog/"),
    ),
    "course": (
        (4, "https://www.deeplearning.ai/ai-for-everyone/"),
        (1.5, "https://www.deeplearning.ai/ai-for-medicine/"),
        (1, "https://www.deeplearning.ai/tensorflow-data-and-deployment/"),
        (1.5, "https://www.deeplearning.ai/tensorflow-in-practice/"),
        (1, "https://www.deeplearning.ai/tensorflow-developer-professional-certificate/"),
        (1, "https://www.deeplearning.ai/courses/"),
        (0.5, "https://www.deeplearning.ai/ai-notes/initialization/"),
        (0.5, "https://www.deeplearning.ai/ai-notes/optimization/"),
    ),
    "batch": (
        (4, "https://www.deeplearning.ai/thebatch/"),
        (3, "https://www.deeplearning.ai/thebatch/{slug}/"),
        (1, "https://blog.deeplearning.ai/blog/the-batch-{slug}"),
    ),
    "yearning": (
        (6, "https://www.deeplearning.ai/machine-learning-yearning/"),
        (2, "https://info.deeplearning.ai/machine-learning-yearning-book"),
    ),
    "specialization": (
        (6, "https://www.deeplearning.ai/deep-learning-specialization/"),
        (2, "https://www.deeplearning.ai/generative-adversarial-networks-specialization/"),
        (2, "https://www.deeplearning.ai/natural-language-processing-specialization/"),
    ),
    "home": (
        (6, "https://www.deeplearning.ai/"),
        (1.5, "https://deeplearning.ai/"),
    ),
    "career": (
        (3, "https://www.deeplearning.ai/careers/"),
        (2, "https://www.deeplearning.ai/careers/{slug}/"),
    ),
    "forum": (
        (1, "https://www.deeplearning.ai/forums/"),
        (3, "https://www.deeplearning.ai/forums/{slug}/"),
    ),
    "register": (
        (4, "https://share.hsforms.com/{slug}"),
        (2, "https://info.deeplearning.ai/event-registration"),
    ),
    "contact": ((1, "https://www.deeplearning.ai/contact-us/"),),
    "course signup": (
        (3, "https://www.deeplearning.ai/course-signup/"),
        (1, "https://info.deeplearning.ai/course-signup-{slug}"),
    ),
    "climate": ((1, "https://www.deeplearning.ai/ai-and-climate-change/"),),
    "about": (
        (3, "https://www.deeplearning.ai/about/"),
        (1, "https://www.deeplearning.ai/about-us/"),
    ),
    "subscribe": (
        (2, "https://www.deeplearning.ai/subscribe/"),
        (2, "https://info.deeplearning.ai/subscribe"),
    ),
    "ambassador": (
        (3, "https://www.deeplearning.ai/become-a-deeplearning-ai-ambassador/"),
        (1, "https://www.deeplearning.ai/ambassadors/"),
    ),
    "terms": (
        (1, "https://www.deeplearning.ai/terms-of-use/"),
        (1, "https://www.deeplearning.ai/privacy-policy/"),
    ),
    "press": ((1, "https://www.deeplearning.ai/press/"),),
    "unsubscribe": (
        (3, "https://info.deeplearning.ai/hs/manage-preferences/unsubscribe?d={slug}"),
        (1, "https://info.deeplearning.ai/unsubscribe"),
    ),
}

_BLOG_SLUGS = (
    "andrew-ng-on-ai-transformation",
    "how-to-read-research-papers",
    "a-path-to-ml-engineering",
    "heroes-of-deep-learning-yann-lecun",
    "the-ai-playbook",
    "working-ai-at-the-frontier",
    "how-to-build-a-career-in-ai",
    "why-ai-projects-fail",
    "data-centric-ai",
    "gans-explained",
    "transformers-for-nlp",
    "ai-in-healthcare-today",
    "learning-rate-schedules",
    "batch-normalization-why",
    "working-ai-data-scientist-at-a-startup",
    "optimizing-hyperparameters",
    "ml-model-deployment",
    "ai-and-the-pandemic",
    "attention-is-all-you-need-recap",
    "bias-in-machine-learning",
)
_EVENT_SLUGS = (
    "gans-for-good",
    "heroes-of-nlp",
    "pie-and-ai-seattle",
    "pie-and-ai-london",
    "pie-and-ai-bangalore",
    "pie-and-ai-lagos",
    "pie-and-ai-tokyo",
    "ai-for-medicine-launch",
    "breaking-into-ai",
    "ai-ethics-in-practice",
    "women-in-ai-roundtable",
    "ml-in-production-meetup",
)
_BATCH_SLUGS = (
    "issue-1",
    "issue-12",
    "issue-25",
    "issue-38",
    "issue-52",
    "issue-60",
    "issue-71",
    "new-year-special",
    "holiday-special",
    "ai-in-2020",
    "covid-edition",
    "gpt-3-edition",
)
_CAREER_SLUGS = (
    "machine-learning-engineer",
    "curriculum-developer",
    "community-manager",
    "software-engineer",
    "content-marketing-lead",
    "teaching-assistant",
)
_FORUM_SLUGS = (
    "deep-learning-specialization",
    "ai-for-everyone",
    "nlp",
    "gans",
    "ai-for-medicine",
    "general",
    "tensorflow",
    "career-advice",
    "study-groups",
)
_SIGNUP_SLUGS = ("dls", "nlp", "gans", "tfdd", "ai4e")


def random_tokens(rng: np.random.Generator, n: int, length: int, alphabet: str) -> np.ndarray:
    """n random strings of `length` characters from `alphabet`, vectorised through a byte view."""
    codes = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
    raw = codes[rng.integers(0, len(codes), (n, length))]
    return np.ascontiguousarray(raw).view(f"S{length}").ravel().astype(str).astype(object)


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_HEX = "0123456789abcdef"
_DIGITS = "0123456789"


def slug_pool(page_type: str, rng: np.random.Generator) -> np.ndarray:
    """Slugs a template of `page_type` may use; generated ids (forms, unsubscribe tokens) come from `rng`."""
    fixed = {
        "events": _EVENT_SLUGS,
        "blog": _BLOG_SLUGS,
        "batch": _BATCH_SLUGS,
        "career": _CAREER_SLUGS,
        "forum": _FORUM_SLUGS,
        "course signup": _SIGNUP_SLUGS,
    }
    if page_type in fixed:
        return np.array(fixed[page_type], dtype=object)
    if page_type == "register":
        return "1" + random_tokens(rng, 40, 22, _B64) + "-" + random_tokens(rng, 40, 4, _B64)
    if page_type == "unsubscribe":
        return random_tokens(rng, 200, 48, _B64)
    return np.array([""], dtype=object)


def _render_base(rng: np.random.Generator, page_type: np.ndarray) -> np.ndarray:
    """Template URL per page type index, with its slug filled in."""
    out = np.empty(len(page_type), dtype=object)
    for t, name in enumerate(catalog.PAGE_TYPES):
        rows = np.flatnonzero(page_type == t)
        if len(rows) == 0:
            continue
        weights = np.array([w for w, _ in URL_TEMPLATES[name]])
        choice = rng.choice(len(weights), len(rows), p=weights / weights.sum())
        slugs = slug_pool(name, rng)
        slug = slugs[rng.integers(0, len(slugs), len(rows))]
        for j, (_, template) in enumerate(URL_TEMPLATES[name]):
            pick = choice == j
            if "{slug}" in template:
                head, tail = template.split("{slug}")
                out[rows[pick]] = head + slug[pick] + tail
            else:
                out[rows[pick]] = template
    return out


_CAMPAIGNS = np.array(
    [
        "The%20Batch",
        "dls-launch",
        "ai4e-enroll",
        "nlp-launch",
        "events-digest",
        "gans-launch",
        "newsletter",
        "tf-certificate",
    ],
    dtype=object,
)
_SOURCES = np.array(["hs_email", "twitter", "facebook", "linkedin", "google", "coursera"], dtype=object)
_MEDIUMS = np.array(["email", "social", "paid", "referral", "cpc"], dtype=object)
_LANGS = np.array(["es", "pt", "fr", "de", "ja", "zh-CN", "vi", "ko"], dtype=object)


def _pick(rng: np.random.Generator, values: np.ndarray, n: int) -> np.ndarray:
    return values[rng.integers(0, len(values), n)]


def _tracking(rng: np.random.Generator, n: int) -> np.ndarray:
    """A tracking query string (without the leading ? or &) per URL, in one of HubSpot's styles."""
    style = rng.choice(4, n, p=[0.45, 0.25, 0.15, 0.15])
    email = (
        "utm_campaign="
        + _pick(rng, _CAMPAIGNS, n)
        + "&utm_source=hs_email&utm_medium=email&utm_content="
        + random_tokens(rng, n, 8, _DIGITS)
        + "&_hsmi="
        + random_tokens(rng, n, 8, _DIGITS)
        + "&_hsenc=p2ANqtz-"
        + random_tokens(rng, n, 86, _B64)
    )
    social = (
        "utm_source="
        + _pick(rng, _SOURCES, n)
        + "&utm_medium="
        + _pick(rng, _MEDIUMS, n)
        + "&utm_campaign="
        + _pick(rng, _CAMPAIGNS, n)
    )
    cta = (
        "hsCtaTracking="
        + random_tokens(rng, n, 8, _HEX)
        + "-"
        + random_tokens(rng, n, 4, _HEX)
        + "%7C"
        + random_tokens(rng, n, 8, _HEX)
        + "-"
        + random_tokens(rng, n, 4, _HEX)
    )
    lang = np.full(n, "hsLang=en", dtype=object)
    return np.select([style == 0, style == 1, style == 2], [email, social, cta], lang)


def render_urls(rng: np.random.Generator, page_type: np.ndarray) -> np.ndarray:
    """One URL string per page type index (object array), with realistic variation."""
    n = len(page_type)
    url = pd.Series(_render_base(rng, page_type), dtype=object)
    u = rng.random((n, 5))
    strip = url.str.endswith("/").to_numpy(bool) & (url.str.count("/").to_numpy() > 3) & (u[:, 0] < 0.15)
    url[strip] = url[strip].str[:-1]
    recase = u[:, 1] < 0.03
    parts = url[recase].str.extract(r"^(https?://[^/]+/)(.*)$")
    url[recase] = parts[0] + parts[1].str.title()
    http = u[:, 2] < 0.03
    url[http] = url[http].str.replace("https://", "http://", n=1, regex=False)
    tracked = u[:, 3] < 0.30
    joiner = np.where(url[tracked].str.contains("?", regex=False).to_numpy(bool), "&", "?").astype(object)
    url[tracked] = url[tracked] + joiner + _tracking(rng, int(tracked.sum()))
    proxied = u[:, 4] < 0.01
    k = int(proxied.sum())
    url[proxied] = (
        "https://translate.googleusercontent.com/translate_c?depth=1&hl="
        + _pick(rng, _LANGS, k)
        + "&prev=search&rurl=translate.google.com&sl=en&sp=nmt4&u="
        + url[proxied].to_numpy(object)
        + "&usg=ALkJrhg"
        + random_tokens(rng, k, 26, _B64)
    )
    return url.to_numpy(object)


def _normalised(url: pd.Series) -> pd.Series:
    """Lower-case URL without scheme, translate proxy, query, fragment or trailing slash."""
    text = url.astype(object).str.strip().str.lower()
    proxied = text.str.extract(
        r"^https?://translate\.googleusercontent\.com/translate_c\?.*?[?&]u=(.+?)(?:&usg=[^&]*)?$"
    )[0]
    text = proxied.fillna(text)
    text = text.str.replace(r"^https?://", "", regex=True).str.replace(r"[?#].*$", "", regex=True)
    return text.str.rstrip("/")


def page_type_of(url: np.ndarray) -> np.ndarray:
    """Page type index of each URL by URL_TEMPLATES (-1 when no template matches or the URL is empty).

    The inverse of `render_urls`, used by evaluations and tests to read journeys back from the files; the
    pipeline's own mapping is the analyst-edited category seed.
    """
    series = pd.Series(url, dtype=object)
    text = _normalised(series.fillna(""))
    out = np.full(len(series), -1, dtype=np.int64)
    patterns: list[tuple[int, str, bool]] = []
    for t, name in enumerate(catalog.PAGE_TYPES):
        for _, template in URL_TEMPLATES[name]:
            plain = _normalised(pd.Series([template.replace("{slug}", "SLUG")])).iloc[0]
            patterns.append((t, plain, "{slug}" in template.split("?")[0]))
    exact = {plain: t for t, plain, has_slug in patterns if not has_slug}
    out[:] = text.map(exact).fillna(-1).astype(np.int64).to_numpy()
    # Templates with a slug, most specific (longest literal text) first.
    for t, plain, _ in sorted((p for p in patterns if p[2]), key=lambda p: -len(p[1])):
        regex = "^" + "[^/]+".join(part.replace(".", r"\.") for part in plain.split("slug")) + "$"
        hit = (out < 0) & text.str.match(regex).to_numpy(bool)
        out[hit] = t
    return out
