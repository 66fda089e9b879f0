"""Customer segments: k-prototypes on mixed contact features, with stable ids and readable names.

One module per step: `config` (the settings, var journeys_segments), `features` (what k-prototypes sees of a
contact), `model` (the fitted model, saving and loading, scoring), `training` (choosing k, fitting, quality,
ids), `naming` (segment names), `reports` (the tables downstream of `contact_segments`), `dbt` (the entries of
the dbt Python models: train or score).
"""

from journeys.segments.config import SegmentSettings
from journeys.segments.model import SegmentModel, load_segment_model

__all__ = ["SegmentModel", "SegmentSettings", "load_segment_model"]
