"""What every DuckDB table asset shares: its decorator, DDL from a column spec, schema metadata, a
preview, and replacing rows inside one transaction."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pandas as pd
from dagster import AssetKey, MetadataValue, TableColumn, TableSchema, asset

from twitter_assets.partitions import daily_partitions, single_run_backfill

Columns = Sequence[tuple[str, str]]


def daily_table_asset(
    *, key: AssetKey, table: str, columns: Columns, deps: Sequence[AssetKey], description: str
) -> Callable:
    """@asset for a daily-partitioned DuckDB table, in the layer's group and the lake's pool."""
    return asset(
        key=key,
        deps=list(deps),
        group_name=key.path[0],
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        kinds={"duckdb"},
        pool="lake_duckdb",
        description=description,
        metadata={"dagster/table_name": table, "dagster/column_schema": column_schema(columns)},
    )


def create_table_sql(table: str, columns: Columns) -> str:
    """DDL from a column spec; table names are constants of this package, never user input."""
    schema = table.split(".")[0]
    body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
    return f"CREATE SCHEMA IF NOT EXISTS {schema}; CREATE TABLE IF NOT EXISTS {table} ({body})"


def column_schema(columns: Columns) -> TableSchema:
    """`dagster/column_schema` metadata, so a changed shape is visible (and checkable) in Dagster."""
    return TableSchema(columns=[TableColumn(name, sql_type.split()[0].lower()) for name, sql_type in columns])


def frame(rows: list[dict], columns: Columns) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[name for name, _ in columns])


def preview(data: pd.DataFrame, columns: list[str], rows: int = 5) -> MetadataValue:
    return MetadataValue.md(data[columns].head(rows).to_markdown(index=False) if len(data) else "_no rows_")


@contextmanager
def transaction(db: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a failed rebuild leaves the previous rows of the partition in place."""
    db.execute("BEGIN TRANSACTION")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
