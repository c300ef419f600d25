"""Column-schema change checks: a silently changed API field shows up as a changed table schema.

Each table asset reports `dagster/column_schema` on every materialization; Dagster's own check
compares it with the previous materialization's (a warning: the change may be intended).
"""

from dagster import AssetChecksDefinition, build_column_schema_change_checks

from twitter_assets.assets.gold import DAILY_INTERACTIONS_KEY
from twitter_assets.assets.silver import SILVER_TWEETS_KEY, SILVER_USERS_KEY


def build_schema_checks() -> list[AssetChecksDefinition]:
    return list(build_column_schema_change_checks(assets=[SILVER_TWEETS_KEY, SILVER_USERS_KEY, DAILY_INTERACTIONS_KEY]))
