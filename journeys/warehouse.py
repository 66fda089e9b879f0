"""Connecting to the DuckDB warehouse that `dbt build` writes.

dbt builds into the schemas `staging`, `intermediate` and `marts` (macros/generate_schema_name.sql);
readers name tables bare (`contact_segments`), so the connection searches those schemas, marts first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

SEARCH_PATH = ("marts", "intermediate", "staging", "main")


def connect(db_path: str | Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at `db_path` with `search_path` set so bare table names resolve."""
    con = duckdb.connect(str(db_path), read_only=read_only)
    existing = {
        schema
        for (schema,) in con.execute(
            "select schema_name from information_schema.schemata where catalog_name = current_database()"
        ).fetchall()
    }
    # DuckDB refuses a search_path naming a schema that does not exist (e.g. a partial build)
    con.execute("set search_path = ?", [",".join(s for s in SEARCH_PATH if s in existing)])
    return con


def read_columns(relation: duckdb.DuckDBPyRelation, columns: Sequence[str], where: str | None = None) -> pd.DataFrame:
    """Only `columns` of a relation (a Python model's `dbt.ref`), as pandas: DuckDB reads no other column,
    and with `where` (a SQL condition) no other row.

    Names the relation lacks are left out, so the model's own check reports them in its words.
    """
    present = [name for name in dict.fromkeys(columns) if name in relation.columns]
    if where is not None:
        relation = relation.filter(where)
    return relation.project(", ".join(quoted(name) for name in present)).df()


def quoted(name: str) -> str:
    """A column name as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def read_distinct(relation: duckdb.DuckDBPyRelation, column: str) -> pd.DataFrame:
    """The distinct values of one column of a relation, computed by DuckDB (e.g. the model version a
    report must match, without handing millions of scored rows to pandas)."""
    return relation.project(quoted(column)).distinct().df()
