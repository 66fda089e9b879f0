"""Read-only access to the built tables by their bare names, and the segment names every section uses."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


class Tables:
    """The tables of one build: which exist, their columns, and queries with a clear error when one is missing."""

    def __init__(self, con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
        self.con = con
        self.db_path = db_path
        listed = con.execute("select table_name, column_name from information_schema.columns").df()
        self._columns = listed.groupby("table_name")["column_name"].apply(set).to_dict()

    def has(self, table: str, *columns: str) -> bool:
        """The table exists and has every one of `columns`."""
        return table in self._columns and set(columns) <= self._columns[table]

    def df(self, sql: str, *tables: str) -> pd.DataFrame:
        missing = [table for table in tables if table not in self._columns]
        if missing:
            raise ValueError(
                f"{self.db_path}: table(s) {', '.join(missing)} not found; run `dbt build` first"
            )
        return self.con.execute(sql).df()

    def interval_columns(self) -> str:
        """`ci_lower, ci_upper` of model_metrics as select items: the columns when the build records
        intervals, else nulls."""
        if self.has("model_metrics", "ci_lower", "ci_upper"):
            return "ci_lower, ci_upper"
        return "null as ci_lower, null as ci_upper"

    def columns(self, table: str) -> set[str]:
        return self._columns.get(table, set())

    def segment_names(self) -> dict[int, str]:
        """Segment id -> the name the `segments` dimension gives it."""
        named = self.df("select segment_id, segment_name from segments", "segments")
        return {int(s): str(n) for s, n in zip(named["segment_id"], named["segment_name"], strict=True)}
