"""Synthetic HubSpot contacts export with planted ground truth (segments, buy probabilities).

Modules, one job each: `catalog` (vocabularies), `planted_segments` (planted segments and contact
properties), `browsing` (page-type Markov chains and dates), `url_templates` (URL templates and rendering),
`buying` (the order-aware purchase model), `contacts` (the clean population), `dirt` (documented dirt
kinds and rates), `events` (each contact's event stream for page_events.csv), `writer` (files and summary),
`appended_days` (next days of events for an existing export), `elt` (the same contacts as Fivetran, Airbyte or
dlt load them, tables in a DuckDB file).
"""

from journeys.synth.appended_days import append_days
from journeys.synth.dirt import DirtRates
from journeys.synth.elt import write_elt_export
from journeys.synth.writer import write_export

__all__ = ["DirtRates", "append_days", "write_elt_export", "write_export"]
