"""Copy tables between the DuckDB build and the local Spark warehouse of the dbt `spark` target.

    python scripts/spark_tables.py load  --duckdb data/journeys.duckdb marts.segment_centroids ...
    python scripts/spark_tables.py dump  --out DIR marts.contact_journeys ...

`load` is how SQL segment scoring on Spark gets the saved segment model: the Python models
(DuckDB) write `segment_centroids` and `segment_feature_scaling`, Spark reads them as tables of
the same schema. `dump` writes Spark tables as Parquet (a folder per table) for comparison.
The Spark session is configured like profiles.yml's `spark` target (JOURNEYS_SPARK_DIR), and
must not run while dbt holds the same warehouse (its metastore is single-process).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


def spark_session():
    """A local session on the warehouse and metastore that the dbt `spark` target uses."""
    from pyspark.sql import SparkSession

    spark_dir = Path(os.environ.get("JOURNEYS_SPARK_DIR", "data/spark")).resolve()
    return (
        SparkSession.builder.master("local[2]")
        .enableHiveSupport()
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "false")
        .getOrCreate()
    )


def load(duckdb_path: Path, tables: list[str]) -> None:
    """Copy `schema.table` relations of a DuckDB file into the Spark warehouse under the same names."""
    import duckdb

    spark = spark_session()
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(str(duckdb_path), read_only=True) as con:
        for table in tables:
            schema, name = table.split(".")
            path = Path(tmp) / f"{table}.parquet"
            con.execute(f"copy {schema}.{name} to '{path}' (format parquet)")
            spark.sql(f"create database if not exists {schema}")
            spark.sql(f"drop table if exists {schema}.{name}")
            spark.read.parquet(str(path)).write.saveAsTable(f"{schema}.{name}")
    spark.stop()


def dump(out_dir: Path, tables: list[str]) -> None:
    """Write each Spark table as Parquet under `<out_dir>/<schema>.<table>/` (DuckDB reads it)."""
    spark = spark_session()
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    for table in tables:
        spark.table(table).coalesce(1).write.mode("overwrite").parquet(str(out_dir / table))
    spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    load_parser = commands.add_parser("load", help="DuckDB tables -> Spark tables")
    load_parser.add_argument("--duckdb", type=Path, required=True)
    load_parser.add_argument("tables", nargs="+", help="schema.table")
    dump_parser = commands.add_parser("dump", help="Spark tables -> Parquet files")
    dump_parser.add_argument("--out", type=Path, required=True)
    dump_parser.add_argument("tables", nargs="+", help="schema.table")
    args = parser.parse_args()
    if args.command == "load":
        load(args.duckdb, args.tables)
    else:
        dump(args.out, args.tables)


if __name__ == "__main__":
    main()
