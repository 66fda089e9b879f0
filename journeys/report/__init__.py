"""`journeys report`: one self-contained HTML file (plotly.js embedded once; no network).

Reads the tables the last `dbt build` wrote, opens with a summary generated from them, then draws the
segments, the propensity models, the training curves, drift over builds and data quality as interactive
Plotly figures.
Sections whose tables a build did not produce (experiments, journeys' transitions) are left out.
"""

from __future__ import annotations

import logging
from pathlib import Path

from journeys.report.data_quality import data_quality_section
from journeys.report.drift import drift_section
from journeys.report.journeys_section import journeys_section
from journeys.report.page import render_page
from journeys.report.propensity import propensity_section
from journeys.report.segments import segment_section
from journeys.report.summary import summary_section
from journeys.report.tables import Tables
from journeys.report.training import metrics_section, training_section
from journeys.warehouse import connect

log = logging.getLogger(__name__)


def write_report(db_path: Path, out_path: Path) -> Path:
    """Render the report of the database at `db_path` into the single file `out_path`."""
    db_path, out_path = Path(db_path), Path(out_path)
    if not db_path.exists():
        raise FileNotFoundError(f"{db_path}: no DuckDB database; run `make build` first")
    with connect(db_path) as con:
        tables = Tables(con, db_path)
        sections = [
            summary_section(tables),
            segment_section(tables),
            journeys_section(tables),
            propensity_section(tables),
            training_section(tables),
            drift_section(tables, tables.segment_names()),
            data_quality_section(tables),
            metrics_section(tables),
        ]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_page([s for s in sections if s is not None], db_path.name), encoding="utf-8")
    log.info("report written to %s (%d bytes)", out_path, out_path.stat().st_size)
    return out_path
