"""Known countries (the build's seeds/countries.csv, saved with the models): the service refuses a country the
warehouse would store as NULL."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.exceptions import RequestValidationError

from journeys.service.schemas import ContactBase


@dataclass(frozen=True)
class Countries:
    """Known country names and ISO-2 codes (lower-case), as the staging layer of the model's build accepted them."""

    names: frozenset[str]
    codes: frozenset[str]

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
