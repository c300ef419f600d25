"""What every table asset shares: its decorator, columns with descriptions, writing one file per
(source, day) from a DuckDB query, a preview, and per-partition metadata.

Per-partition metadata: in a single-run backfill Dagster emits one materialization per partition;
`report_partitions` gives each its own figures (`context.add_asset_metadata(partition_key=...)`),
so the UI's per-partition view and Plots show each day's numbers, not the run's totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from dagster import AssetExecutionContext, AssetKey, MetadataValue, TableColumn, TableSchema, asset

from twitter_assets.lake import Lake, sql_string
from twitter_assets.partitions import daily_partitions, single_run_backfill

if TYPE_CHECKING:  # imported where used, so importing the code location does not import them
    import duckdb
    import pandas as pd


@dataclass(frozen=True)
class Column:
    """A table column: its name, DuckDB type and what it means (shown in Dagster's column schema)."""

    name: str
    sql_type: str
    description: str


Columns = Sequence[Column]


def column_names(columns: Columns) -> list[str]:
    return [column.name for column in columns]


def daily_table_asset(
    *, key: AssetKey, table: str, columns: Columns, deps: Sequence[Any], description: str, **extra: Any
) -> Callable:
    """@asset for a daily-partitioned lake table (one file per source and day), in its layer's group."""
    return asset(
        key=key,
        deps=list(deps),
        group_name=key.path[0],
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        kinds={"duckdb", "parquet"},
        pool="lake_duckdb",
        description=description,
        metadata={"dagster/table_name": table, "dagster/column_schema": column_schema(columns)},
        **extra,
    )


def column_schema(columns: Columns) -> TableSchema:
    """`dagster/column_schema` metadata, so a changed shape is visible (and checkable) in Dagster."""
    return TableSchema(
        columns=[TableColumn(c.name, c.sql_type.split()[0].lower(), description=c.description) for c in columns]
    )


def select_list(columns: Columns) -> str:
    """`CAST(name AS TYPE) AS name, ...` so every file of a table has exactly the declared types."""
    return ", ".join(f"CAST({c.name} AS {c.sql_type.split()[0]}) AS {c.name}" for c in columns)


def write_query_partition(
    lake: Lake,
    db: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    day: date,
    sql: str,
    params: Mapping[str, Any],
) -> int:
    """Stream a query's rows into the (table, source, day) file; return the row count.

    DuckDB writes the Parquet file itself (COPY), so the rows never become Python objects.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="twitter-copy-", dir=lake._scratch_dir()) as scratch:
        local = f"{scratch}/part.parquet"
        db.execute(f"COPY ({sql}) TO {sql_string(local)} (FORMAT parquet, COMPRESSION zstd)", dict(params))
        rows = db.execute(f"SELECT count(*) FROM read_parquet({sql_string(local)})").fetchone()[0]
        lake._publish(local, lake.partition_path(table, source, day))
    lake._ensure_catalog(table)
    return int(rows)


def preview(data: pd.DataFrame, columns: list[str], rows: int = 5) -> MetadataValue:
    import pandas as pd

    if not len(data):
        return MetadataValue.md("_no rows_")
    shown = data[columns].head(rows).copy()
    for name in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[name]) and name == "day":
            shown[name] = shown[name].dt.strftime("%Y-%m-%d")
    return MetadataValue.md(shown.to_markdown(index=False))


def previews_by_day(data: pd.DataFrame, columns: list[str], rows: int = 5) -> dict[str, MetadataValue]:
    """One preview per partition, of that day's rows only (`data` has a `day` column): a partition's metadata
    describes that partition, also in a ranged run."""
    import pandas as pd

    if not len(data):
        return {}
    days = pd.to_datetime(data["day"]).dt.strftime("%Y-%m-%d")
    return {key: preview(data[days == key], columns, rows) for key in sorted(set(days))}


def report_partitions(
    context: AssetExecutionContext,
    per_partition: Mapping[str, Mapping[str, Any]],
    previews: Mapping[str, MetadataValue] | None = None,
) -> None:
    """Give each partition of the run its own metadata (Dagster merges it over the run's). With `previews`, every
    partition of the run gets one (`_no rows_` for a day without rows), so none shows another day's."""
    keys = list(per_partition) if previews is None else list(context.partition_keys)
    for partition_key in keys:
        metadata = dict(per_partition.get(partition_key, {}))
        if previews is not None:
            metadata["preview"] = previews.get(partition_key, MetadataValue.md("_no rows_"))
        context.add_asset_metadata(metadata, partition_key=partition_key)


def sum_by_day(rows: Iterable[tuple[str, str, int]]) -> dict[str, int]:
    """(source, day, n) -> {day: total over sources}."""
    totals: dict[str, int] = {}
    for _, day, count in rows:
        totals[day] = totals.get(day, 0) + int(count)
    return totals
