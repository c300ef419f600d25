"""The `daily_refresh` job: every asset and check for one UTC day, for a human to launch.

There is no schedule any more: the automation sensor (`sensors.py`, conditions in `conditions.py`)
fetches yesterday once it has ended, refreshes today, fills gaps and rebuilds downstream. The job
stays for the launchpad: "refresh this day, everything, with every check".
"""

from dagster import AssetSelection, define_asset_job

daily_refresh_job = define_asset_job(
    name="daily_refresh",
    selection=AssetSelection.all(include_sources=False),
    description="Fetch, clean and summarise one UTC day, with every asset check.",
)
