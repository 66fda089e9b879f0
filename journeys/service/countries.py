"""Known countries (seeds/countries.csv): the service refuses a country the warehouse would store as NULL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from fastapi.exceptions import RequestValidationError

from journeys.service.schemas import ContactBase
from journeys.urls import DEFAULT_SEEDS_DIR


@dataclass(frozen=True)
class Countries:
    """Known country names and ISO-2 codes (seeds/countries.csv), as the staging layer accepts them."""

    names: frozenset[str]
    codes: frozenset[str]

    @classmethod
    def from_seed(cls, seeds_dir: Path | None = None) -> Countries:
        path = Path(seeds_dir or DEFAULT_SEEDS_DIR) / "countries.csv"
        seed = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = {"country_name", "country_code"} - set(seed.columns)
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        return cls(frozenset(seed["country_name"].str.lower()), frozenset(seed["country_code"].str.lower()))

    def check(self, contacts: list[ContactBase]) -> None:
        """422 naming each unknown country: the warehouse would store NULL, the service says so instead."""
        errors = [
            {"loc": ("body", "contacts", i, field), "msg": f"{value!r} is not a known {what} (seeds/countries.csv)",
             "type": "value_error"}
            for i, contact in enumerate(contacts)
            for field, value, known, what in (
                ("ip_country", contact.ip_country, self.names, "country name"),
                ("ip_country_code", contact.ip_country_code, self.codes, "country code"),
            )
            if value is not None and value.strip().lower() not in known
        ]  # fmt: skip
        if errors:
            raise RequestValidationError(errors)
