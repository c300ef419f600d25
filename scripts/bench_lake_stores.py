"""How the lake's bytes move on each store: a local directory, S3 through s3fs (what `Lake` uses),
and S3 through pyarrow's own `pyarrow.fs.S3FileSystem` (wrapped for DuckDB by fsspec's
`ArrowFSWrapper`). Needs an S3 endpoint in the AWS_* variables, e.g. the moto server of
`python -m twitter_assets_tests.distributed.services s3 --env-file /tmp/s3.env`.

    PYTHONPATH=. .venv/bin/python scripts/bench_lake_stores.py [--days 7] [--tweets 100000] [--repeat 3]

1. silver + gold (every asset but raw, with their checks) for a 7-day, 2-source lake whose raw
   landings are copied in first (landed once from the simulator), one in-process run per store;
2. reading one 100k-tweet silver.tweets partition: an aggregate and the whole table, through
   `Lake.connect()` (DuckDB over the store), and with pyarrow.parquet directly.
Prints a JSON object (seconds, best of --repeat for the reads).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from dagster import AssetSelection, instance_for_test, materialize
from fsspec.implementations.arrow import ArrowFSWrapper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from twitter_assets.assets.raw import raw_asset_key  # noqa: E402
from twitter_assets.definitions import build_asset_checks, build_assets  # noqa: E402
from twitter_assets.lake import Lake  # noqa: E402
from twitter_assets.resources.x_api import XApiClient  # noqa: E402
from twitter_assets.simulator import SimulatorServer, SyntheticCorpus  # noqa: E402
from twitter_assets.sources import Source  # noqa: E402

SOURCES = [Source(name="aluraonline", query="AluraOnline", account="AluraOnline"), Source("python", "python")]
TOKEN = "bench-token"


def arrow_s3() -> pafs.S3FileSystem:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ["AWS_ENDPOINT_URL"]
    scheme, host = endpoint.split("://", 1)
    return pafs.S3FileSystem(
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        endpoint_override=host,
        scheme=scheme,
    )


class ArrowLake(Lake):
    """The same lake with pyarrow's S3 client moving the bytes (and DuckDB reading through it)."""

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        if self._fs is None:
            self._fs = ArrowFSWrapper(arrow_s3())
        return self._fs

    def _reader_filesystem(self, listed) -> fsspec.AbstractFileSystem:
        return self.fs


def lakes(tmp: Path, bucket: str) -> dict[str, Lake]:
    run = uuid.uuid4().hex[:8]
    return {
        "local directory": Lake(root=str(tmp / "lake")),
        "S3 via s3fs (Lake's choice)": Lake(root=f"s3://{bucket}/bench-{run}/s3fs"),
        "S3 via pyarrow.fs.S3FileSystem": ArrowLake(root=f"s3://{bucket}/bench-{run}/pyarrow"),
    }


def land_raw(root: Path, first: date, last: date) -> None:
    with SimulatorServer(SyntheticCorpus(), bearer_tokens={TOKEN}) as simulator, instance_for_test() as instance:
        x_api = XApiClient(bearer_token=TOKEN, base_url=simulator.base_url)
        result = materialize(
            [*build_assets(SOURCES), *build_asset_checks(SOURCES)],
            resources={"x_api": x_api, "lake": Lake(root=str(root))},
            instance=instance,
            tags=_range_tags(first, last),
            selection=AssetSelection.assets(*(raw_asset_key(s) for s in SOURCES)),
        )
        assert result.success


def _range_tags(first: date, last: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def silver_and_gold(lake: Lake, first: date, last: date) -> float:
    with instance_for_test() as instance:
        started = time.perf_counter()
        result = materialize(
            [*build_assets(SOURCES), *build_asset_checks(SOURCES)],
            resources={"x_api": XApiClient(bearer_token=TOKEN, base_url="http://127.0.0.1:9"), "lake": lake},
            instance=instance,
            tags=_range_tags(first, last),
            selection=AssetSelection.all() - AssetSelection.assets(*(raw_asset_key(s) for s in SOURCES)),
        )
        seconds = time.perf_counter() - started
    assert result.success
    return seconds


def big_silver_partition(lake: Lake, n: int) -> pa.Table:
    """n silver.tweets rows shaped like the real ones (text ~110 characters)."""
    with lake.connect() as db:
        sample = db.execute("SELECT * FROM silver.tweets ORDER BY tweet_id").to_arrow_table()
    repeats = -(-n // sample.num_rows)
    table = pa.concat_tables([sample] * repeats).slice(0, n)
    ids = pa.array([f"9{i:018d}" for i in range(n)])
    return table.set_column(table.schema.get_field_index("tweet_id"), "tweet_id", ids)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(min(times), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--tweets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bucket = os.environ.get("TWITTER_S3_BUCKET", "twitter-lake")
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=args.days), today - timedelta(days=1)
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as scratch:
        tmp = Path(scratch)
        raw = tmp / "raw-source"
        land_raw(raw, first, last)
        local_fs = fsspec.filesystem("file")
        day = last - timedelta(days=1)
        for name, lake in lakes(tmp, bucket).items():
            if lake.is_local:
                local_fs.copy(str(raw / "raw"), lake.path("raw"), recursive=True)
            else:
                lake.fs.put(str(raw / "raw"), lake.path("raw"), recursive=True)
            entry = figures.setdefault(name, {})
            entry[f"silver+gold, {args.days} days x 2 sources (s)"] = round(silver_and_gold(lake, first, last), 2)
            big = big_silver_partition(lake, args.tweets)
            started = time.perf_counter()
            lake.write_partition("silver.tweets", "bench", day, big)
            entry[f"write one {args.tweets:,}-tweet partition (s)"] = round(time.perf_counter() - started, 3)
            path = lake.partition_path("silver.tweets", "bench", day)
            entry["partition object (MiB)"] = round(lake.fs.size(path) / 2**20, 1)

            def aggregate(lake=lake):
                with lake.connect() as db:
                    db.execute(
                        "SELECT count(*), sum(like_count), count(DISTINCT author_id) FROM silver.tweets "
                        "WHERE source = 'bench'"
                    ).fetchall()

            def whole(lake=lake, path=path):
                with lake.connect() as db:
                    db.execute(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()

            def direct(lake=lake, path=path):
                if isinstance(lake, ArrowLake):
                    pq.read_table(path.removeprefix("s3://"), filesystem=arrow_s3(), partitioning=None)
                else:
                    pq.read_table(
                        path if lake.is_local else path.removeprefix("s3://"), filesystem=lake.fs, partitioning=None
                    )

            entry["DuckDB aggregate over silver.tweets via Lake.connect() (s)"] = best(aggregate, args.repeat)
            entry["DuckDB whole partition to Arrow via Lake.connect() (s)"] = best(whole, args.repeat)
            entry["pyarrow.parquet.read_table of the partition (s)"] = best(direct, args.repeat)
            print(name, json.dumps(entry), file=sys.stderr, flush=True)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
