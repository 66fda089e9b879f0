"""Purchase propensity from page sequences: leakage audit, baselines, BiLSTM, artifacts, scoring.

`load_propensity_model(artifacts_dir)` is the scoring contract the service builds on.
"""

from journeys.propensity.artifacts import PropensityModel, load_propensity_model
from journeys.propensity.audit import LeakageError
from journeys.propensity.config import PropensityConfig

__all__ = ["LeakageError", "PropensityConfig", "PropensityModel", "load_propensity_model"]
