"""Route the package's log lines into dbt's event system: they reach the console AND logs/dbt.log.

dbt does not capture the standard `logging` module nor a Python model's stdout in its log file.
"""

from __future__ import annotations

import logging


class DbtEventHandler(logging.Handler):
    """Forwards log records to dbt's events (warnings as warnings)."""

    def emit(self, record: logging.LogRecord) -> None:
        from dbt_common.events.base_types import EventLevel
        from dbt_common.events.functions import fire_event
        from dbt_common.events.types import Note

        level = EventLevel.WARN if record.levelno >= logging.WARNING else EventLevel.INFO
        fire_event(Note(msg=self.format(record)), level=level)


def log_to_dbt(name: str = "journeys") -> None:
    """INFO lines of `name` and its children (progress, timings, train-or-score decisions) into dbt's log."""
    logger = logging.getLogger(name)
    if not any(isinstance(h, DbtEventHandler) for h in logger.handlers):
        logger.addHandler(DbtEventHandler())
        logger.setLevel(logging.INFO)
        logger.propagate = False  # TensorFlow configures the root logger: avoid every line twice
