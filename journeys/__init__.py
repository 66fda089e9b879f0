"""Customer-journey analytics on a warehouse: synthetic export, segments, propensity, service, report."""

__version__ = "0.1.0"
