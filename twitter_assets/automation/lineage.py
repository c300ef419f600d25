"""Dependencies whose partition mapping is part of the automation design.

Gold day D counts, among others, tweets in conversations the account took part in *anywhere in
silver*, so replies landing on D+1..D+6 can raise D's value: gold D depends on silver D..D+6. Later
days that do not exist yet are allowed (a single-day or ranged gold run still works without them).
"""

from dagster import AssetDep, TimeWindowPartitionMapping

from twitter_assets.assets.silver import SILVER_TWEETS_KEY

GOLD_READS_SILVER_WEEK = AssetDep(
    SILVER_TWEETS_KEY,
    partition_mapping=TimeWindowPartitionMapping(
        start_offset=0, end_offset=6, allow_nonexistent_upstream_partitions=True
    ),
)
