"""Dagster resources: the X API client (the lake resource lives in twitter_assets.lake)."""
