"""Customer segments: k-prototypes on mixed contact features, with stable ids and readable names.

One module per step: `features` (what k-prototypes sees of a contact), `model` (the fitted model, its
settings, saving and loading), `training` (choosing k, fitting, quality, ids, the `contact_segments` entry),
`naming` (segment names), `reports` (the tables downstream of `contact_segments`).
"""

from journeys.segments.model import SegmentModel, SegmentSettings, load_segment_model

__all__ = ["SegmentModel", "SegmentSettings", "load_segment_model"]
