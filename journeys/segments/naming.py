"""Readable names for segments, from what sets each apart from all contacts.

Every feature gives each segment a trait with a strength: a numeric feature its mean z-score in the segment
(all contacts average 0), a flag (`true` / `false`) or other category the gap between its share in the segment
and among all contacts, in standard deviations of that share (|p_s - p| / sqrt(p (1 - p))). The two strongest
traits name the segment ("opens e-mails, rarely visits"); the four strongest, with their figures, describe it
in one line. Names are made unique with a further trait, or the segment id as a last resort.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeys.segments.features import SegmentFeatures

NAME_TRAITS = 2
DESCRIPTION_TRAITS = 4
# (above average / present, below average / absent) phrases for the default features; others get generic ones.
PHRASES = {
    "num_sessions": ("visits often", "rarely visits"),
    "emails_opened": ("opens e-mails", "rarely opens e-mails"),
    "emails_clicked": ("clicks e-mails", "rarely clicks e-mails"),
    "emails_delivered": ("gets many e-mails", "gets few e-mails"),
    "num_pageviews": ("views many pages", "views few pages"),
    "days_since_subscriber": ("long-time subscriber", "recent subscriber"),
    "days_since_lead": ("long-time lead", "recent lead"),
    "has_company": ("has a company", "no company"),
    "is_bulk_import": ("bulk-imported", "not bulk-imported"),
    "has_lead": ("lead", "not a lead"),
    "has_subscriber": ("subscriber", "never subscribed"),
    "has_first_email_send": ("e-mailed", "never e-mailed"),
    "has_last_event": ("event-goer", "no events"),
    "has_job_title": ("gave a job title", "no job title"),
}


def segment_names(
    features: SegmentFeatures, contacts: pd.DataFrame, index: np.ndarray, segment_ids: list[int]
) -> list[dict[str, str]]:
    """Name and description of each prototype's segment (`index`: each contact's prototype position)."""
    X = features.transform(contacts)
    raw = {name: _own_units(features, contacts, name) for name in features.numeric_columns}
    traits = [_traits(features, X, raw, index == position) for position in range(len(segment_ids))]
    names = [", ".join(phrase for _, phrase, _ in t[:NAME_TRAITS]) for t in traits]
    for position, name in enumerate(names):
        if names.count(name) > 1:
            names[position] = ", ".join(phrase for _, phrase, _ in traits[position][: NAME_TRAITS + 1])
    names = [name if names.count(name) == 1 else f"{name} ({sid})" for name, sid in zip(names, segment_ids,
                                                                                         strict=True)]
    descriptions = ["; ".join(f"{phrase} ({detail})" for _, phrase, detail in t[:DESCRIPTION_TRAITS])
                    for t in traits]
    descriptions = [text[:1].upper() + text[1:] for text in descriptions]
    return [{"name": n, "description": d} for n, d in zip(names, descriptions, strict=True)]


def _own_units(features: SegmentFeatures, contacts: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric feature as the contacts have it (missing counts are 0, missing days stay missing)."""
    if name not in contacts.columns:
        return np.full(len(contacts), np.nan)
    values = pd.to_numeric(contacts[name], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(values) if name in features.config.count_features else values


def _traits(features: SegmentFeatures, X: pd.DataFrame, own: dict[str, np.ndarray], members: np.ndarray
            ) -> list[tuple]:
    """(strength, phrase, detail) of every feature for one segment, strongest first."""
    if not members.any():
        return [(0.0, "empty", "no contacts")]
    traits = []
    for name in features.numeric_columns:
        z = X[name].to_numpy(dtype=float)
        raw = own[name]
        strength = float(np.nan_to_num(np.nanmean(z[members]))) if np.isfinite(z[members]).any() else 0.0
        high, low = PHRASES.get(name, (f"high {name}", f"low {name}"))
        traits.append((abs(strength), high if strength > 0 else low,
                       f"mean {np.nanmean(raw[members]):.3g} vs {np.nanmean(raw):.3g}"))
    for name in features.categorical_columns:
        labels = X[name].to_numpy(dtype=object)
        values = ["true"] if set(labels) <= {"true", "false"} else sorted(set(labels))
        best = None
        for value in values:
            overall, inside = float(np.mean(labels == value)), float(np.mean(labels[members] == value))
            gap = (inside - overall) / np.sqrt(max(overall * (1 - overall), 1e-6))
            if best is None or abs(gap) > abs(best[0]):
                best = (gap, value, inside, overall)
        gap, value, inside, overall = best
        if value == "true":
            present, absent = PHRASES.get(name, (name.replace("_", " "), f"no {name.replace('_', ' ')}"))
            phrase = present if gap > 0 else absent
        else:
            phrase = f"{name} {value}" if gap > 0 else f"few {name} {value}"
        traits.append((abs(float(gap)), phrase, f"{value}: {inside:.0%} vs {overall:.0%}"))
    return sorted(traits, key=lambda t: (-t[0], t[1]))
